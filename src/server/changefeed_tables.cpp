#include "server/changefeed_tables.hpp"

#include <cctype>

#include "protocol/wire.hpp"

namespace tidewire::server {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string ChangefeedTable::channel() const { return std::string(wire::changefeed::kChannelPrefix) + qualified(); }

bool is_plain_identifier(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::vector<ChangefeedTable> parse_changefeed_tables(std::string_view value, std::string& error) {
  std::vector<ChangefeedTable> tables;
  error.clear();
  while (!trim(value).empty()) {
    const std::size_t comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    ChangefeedTable t;
    if (const std::size_t open = item.find('('); open != std::string_view::npos) {
      if (item.back() != ')') {
        error = "'" + std::string(item) + "': expected schema.table or schema.table(owner_column)";
        return {};
      }
      const std::string_view owner = trim(item.substr(open + 1, item.size() - open - 2));
      if (!is_plain_identifier(owner)) {
        error = "'" + std::string(item) + "': the owner column must be a plain identifier";
        return {};
      }
      t.owner_column = lower(owner);
      item = trim(item.substr(0, open));
    }
    const std::size_t dot = item.find('.');
    if (dot == std::string_view::npos || !is_plain_identifier(item.substr(0, dot)) ||
        !is_plain_identifier(item.substr(dot + 1))) {
      error = "'" + std::string(item) + "': expected schema.table (identifiers of A-Z a-z 0-9 _)";
      return {};
    }
    t.schema = lower(item.substr(0, dot));
    t.table = lower(item.substr(dot + 1));
    for (const ChangefeedTable& other : tables)
      if (other.schema == t.schema && other.table == t.table) {
        error = "'" + t.qualified() + "' is listed twice";
        return {};
      }
    tables.push_back(std::move(t));
  }
  return tables;
}

bool is_db_channel(std::string_view channel) {
  return channel.substr(0, wire::changefeed::kChannelPrefix.size()) == wire::changefeed::kChannelPrefix;
}

std::optional<std::pair<std::string, std::string>> parse_db_channel(std::string_view channel) {
  if (!is_db_channel(channel)) return std::nullopt;
  const std::string_view rest = channel.substr(wire::changefeed::kChannelPrefix.size());
  const std::size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view schema = rest.substr(0, dot), table = rest.substr(dot + 1);
  if (!is_plain_identifier(schema) || !is_plain_identifier(table)) return std::nullopt;
  return std::make_pair(std::string(schema), std::string(table));
}

}  // namespace tidewire::server

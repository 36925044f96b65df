#include "server/changefeed_wal2json.hpp"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace tidewire::server {

using nlohmann::json;

namespace {

const std::string* string_at(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// wal2json's [{name, type, value}, ...] as {name: value}; json/jsonb text parsed into JSON.
json record(const json& columns) {
  json out = json::object();
  if (!columns.is_array()) return out;
  for (const json& c : columns) {
    const std::string* name = c.is_object() ? string_at(c, "name") : nullptr;
    if (!name) continue;
    const auto value = c.find("value");
    json v = value == c.end() ? json(nullptr) : *value;
    const std::string* type = string_at(c, "type");
    if (type && v.is_string() && (*type == "json" || *type == "jsonb")) {
      json parsed = json::parse(v.get_ref<const std::string&>(), nullptr, false);
      if (!parsed.is_discarded()) v = std::move(parsed);
    }
    out[*name] = std::move(v);
  }
  return out;
}

}  // namespace

std::uint64_t parse_lsn(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= text.size() || slash > 8 ||
      text.size() - slash - 1 > 8)
    return 0;
  std::uint64_t hi = 0, lo = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == slash) continue;
    const char c = text[i];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return 0;
    std::uint64_t& part = i < slash ? hi : lo;
    part = part * 16 + static_cast<std::uint64_t>(d);
  }
  return (hi << 32) | lo;
}

std::string format_lsn(std::uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

std::string iso_utc_timestamp(std::string_view ts) {
  // YYYY-MM-DD HH:MM:SS[.ffffff](+|-)HH[:MM[:SS]]
  int y, mo, d, h, mi, s, n = 0;
  const std::string text(ts);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n == 0)
    return text;
  std::size_t i = static_cast<std::size_t>(n);
  int millis = 0, digits = 0;
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
      if (digits < 3) {
        millis = millis * 10 + (text[i] - '0');
        ++digits;
      }
  }
  while (digits < 3) {
    millis *= 10;
    ++digits;
  }
  long offset = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const int sign = text[i] == '+' ? 1 : -1;
    int oh = 0, om = 0, os = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d:%2d", &oh, &om, &os) < 1) return text;
    offset = sign * (oh * 3600L + om * 60L + os);
  } else {
    return text;  // BC dates, infinity: not representable
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::time_t t = timegm(&tm) - offset;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return buf;
}

bool decode_wal2json(std::string_view line, Wal2jsonMessage& out, std::string& error) {
  out = Wal2jsonMessage();
  const json j = json::parse(line, nullptr, false);
  if (!j.is_object()) {
    error = "not a JSON object";
    return false;
  }
  const std::string* action = string_at(j, "action");
  if (!action || action->size() != 1) {
    error = "no action";
    return false;
  }
  out.action = (*action)[0];
  if (const std::string* lsn = string_at(j, "lsn")) out.lsn = parse_lsn(*lsn);
  if (const std::string* next = string_at(j, "nextlsn")) out.next_lsn = parse_lsn(*next);
  if (out.action == 'B' || out.action == 'C' || out.action == 'M') return true;
  const std::string* schema = string_at(j, "schema");
  const std::string* table = string_at(j, "table");
  if (!schema || !table) {
    error = "a row change without schema or table";
    return false;
  }
  out.schema = *schema;
  out.table = *table;
  if (out.action == 'T') return true;
  const char* event = out.action == 'I'   ? "INSERT"
                      : out.action == 'U' ? "UPDATE"
                      : out.action == 'D' ? "DELETE"
                                          : nullptr;
  if (!event) {
    error = "unknown action " + *action;
    return false;
  }
  const std::string* ts = string_at(j, "timestamp");
  json payload{{"schema", *schema},
               {"table", *table},
               {"commit_timestamp", ts ? json(iso_utc_timestamp(*ts)) : json(nullptr)},
               {"eventType", event},
               {"new", out.action == 'D' ? json::object() : record(j.contains("columns") ? j["columns"] : json())},
               {"old", out.action == 'I' ? json::object() : record(j.contains("identity") ? j["identity"] : json())},
               {"errors", nullptr}};
  out.payload = payload.dump(-1, ' ', false, json::error_handler_t::replace);
  return true;
}

}  // namespace tidewire::server

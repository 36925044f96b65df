#include "server/changefeed_filter.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace tidewire::server {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxInValues = 100;
constexpr std::size_t kMaxFilterBytes = 1024;

// The text form a column value is compared with (strings as they are, booleans as true/false, other JSON dumped).
std::string as_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

template <typename T>
bool compare(ChangeFilter::Op op, const T& a, const T& b) {
  switch (op) {
    case ChangeFilter::Op::kEq:
    case ChangeFilter::Op::kIn: return a == b;
    case ChangeFilter::Op::kNeq: return a != b;
    case ChangeFilter::Op::kLt: return a < b;
    case ChangeFilter::Op::kLte: return a <= b;
    case ChangeFilter::Op::kGt: return a > b;
    case ChangeFilter::Op::kGte: return a >= b;
  }
  return false;
}

bool column_matches(const ChangeFilter& f, const json& record) {
  const auto it = record.find(f.column);
  if (it == record.end() || it->is_null()) return false;
  if (f.numeric) {
    if (!it->is_number()) return false;
    const double v = it->get<double>();
    if (f.op == ChangeFilter::Op::kIn) {
      for (double n : f.numbers)
        if (v == n) return true;
      return false;
    }
    return compare(f.op, v, f.numbers.front());
  }
  const std::string v = as_text(*it);
  if (f.op == ChangeFilter::Op::kIn) {
    for (const std::string& s : f.values)
      if (v == s) return true;
    return false;
  }
  return compare(f.op, v, f.values.front());
}

bool owner_matches(const json& record, const std::string& column, const std::string& owner) {
  const auto it = record.find(column);
  return it != record.end() && !it->is_null() && as_text(*it) == owner;
}

std::vector<std::string> split_in_list(std::string_view list) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= list.size()) {
    std::string item;
    if (i < list.size() && list[i] == '"') {  // "a,b" keeps its comma
      const std::size_t close = list.find('"', i + 1);
      if (close == std::string_view::npos) return {};
      item = std::string(list.substr(i + 1, close - i - 1));
      i = close + 1;
      if (i < list.size() && list[i] != ',') return {};
    } else {
      const std::size_t comma = std::min(list.find(',', i), list.size());
      item = std::string(list.substr(i, comma - i));
      i = comma;
    }
    out.push_back(std::move(item));
    ++i;  // past the comma (or the end)
  }
  return out;
}

}  // namespace

bool ChangeFilter::accepts(const ChangeRow& row) const {
  switch (event) {
    case Event::kAll: break;
    case Event::kInsert: if (row.kind != ChangeRow::Kind::kInsert) return false; break;
    case Event::kUpdate: if (row.kind != ChangeRow::Kind::kUpdate) return false; break;
    case Event::kDelete: if (row.kind != ChangeRow::Kind::kDelete) return false; break;
  }
  if (!owner_column.empty()) {
    const bool has_new = row.kind != ChangeRow::Kind::kDelete;
    if (has_new && !owner_matches(row.new_record, owner_column, owner)) return false;
    if (row.old_record.contains(owner_column)) {
      if (!owner_matches(row.old_record, owner_column, owner)) return false;
    } else if (row.kind == ChangeRow::Kind::kDelete) {
      return false;  // cannot tell whose row it was (REPLICA IDENTITY FULL tells)
    }
  }
  if (!column.empty())
    return column_matches(*this, row.kind == ChangeRow::Kind::kDelete ? row.old_record : row.new_record);
  return true;
}

bool parse_change_filter(const json* changes, ChangeFilter& out, std::string& error) {
  out = ChangeFilter();
  if (!changes || changes->is_null()) return true;
  if (!changes->is_object()) {
    error = "changes must be an object {event, filter}";
    return false;
  }
  if (const auto e = changes->find("event"); e != changes->end() && !e->is_null()) {
    const std::string event = e->is_string() ? e->get<std::string>() : "";
    if (event == "*") out.event = ChangeFilter::Event::kAll;
    else if (event == "INSERT") out.event = ChangeFilter::Event::kInsert;
    else if (event == "UPDATE") out.event = ChangeFilter::Event::kUpdate;
    else if (event == "DELETE") out.event = ChangeFilter::Event::kDelete;
    else {
      error = "changes.event must be INSERT, UPDATE, DELETE or *";
      return false;
    }
  }
  const auto f = changes->find("filter");
  if (f == changes->end() || f->is_null()) return true;
  if (!f->is_string() || f->get_ref<const std::string&>().size() > kMaxFilterBytes) {
    error = "changes.filter must be a string column=op.value of at most 1024 bytes";
    return false;
  }
  const std::string& text = f->get_ref<const std::string&>();
  const std::size_t eq = text.find('=');
  const std::size_t dot = eq == std::string::npos ? std::string::npos : text.find('.', eq + 1);
  if (eq == std::string::npos || eq == 0 || dot == std::string::npos) {
    error = "changes.filter must look like column=op.value (e.g. user_id=eq.42)";
    return false;
  }
  out.column = text.substr(0, eq);
  const std::string op = text.substr(eq + 1, dot - eq - 1);
  const std::string value = text.substr(dot + 1);
  if (op == "eq") out.op = ChangeFilter::Op::kEq;
  else if (op == "neq") out.op = ChangeFilter::Op::kNeq;
  else if (op == "lt") out.op = ChangeFilter::Op::kLt;
  else if (op == "lte") out.op = ChangeFilter::Op::kLte;
  else if (op == "gt") out.op = ChangeFilter::Op::kGt;
  else if (op == "gte") out.op = ChangeFilter::Op::kGte;
  else if (op == "in") out.op = ChangeFilter::Op::kIn;
  else {
    error = "unknown filter operator '" + op + "': use eq, neq, lt, lte, gt, gte or in";
    return false;
  }
  if (out.op == ChangeFilter::Op::kIn) {
    if (value.size() < 2 || value.front() != '(' || value.back() != ')') {
      error = "the in operator takes a list: column=in.(a,b,c)";
      return false;
    }
    out.values = split_in_list(std::string_view(value).substr(1, value.size() - 2));
    if (out.values.empty() || out.values.size() > kMaxInValues) {
      error = "the in list must hold 1-100 values, quoted with \" when they contain a comma";
      return false;
    }
  } else {
    out.values.push_back(value);
  }
  return true;
}

bool set_numeric(ChangeFilter& filter, std::string& error) {
  filter.numeric = true;
  filter.numbers.clear();
  for (const std::string& v : filter.values) {
    errno = 0;
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || errno != 0 || end != v.c_str() + v.size() || !std::isfinite(d)) {
      error = "'" + v + "' is not a number, and column " + filter.column + " is numeric";
      return false;
    }
    filter.numbers.push_back(d);
  }
  return true;
}

}  // namespace tidewire::server

#include "server/changefeed_row.hpp"

namespace tidewire::server {

std::shared_ptr<const ChangeRow> parse_change_row(std::string_view payload_json) {
  nlohmann::json j = nlohmann::json::parse(payload_json, nullptr, false);
  if (!j.is_object()) return nullptr;
  const auto type = j.find("eventType");
  if (type == j.end() || !type->is_string()) return nullptr;
  auto row = std::make_shared<ChangeRow>();
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "INSERT") row->kind = ChangeRow::Kind::kInsert;
  else if (t == "UPDATE") row->kind = ChangeRow::Kind::kUpdate;
  else if (t == "DELETE") row->kind = ChangeRow::Kind::kDelete;
  else return nullptr;
  if (auto n = j.find("new"); n != j.end() && n->is_object()) row->new_record = std::move(*n);
  if (auto o = j.find("old"); o != j.end() && o->is_object()) row->old_record = std::move(*o);
  return row;
}

}  // namespace tidewire::server

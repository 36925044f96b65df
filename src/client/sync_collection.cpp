#include "client/sync_collection.hpp"

#include <algorithm>

namespace tidewire::client {

namespace {
std::int64_t version(const nlohmann::json& item) {
  auto v = item.find("version");
  return v != item.end() && v->is_number_integer() ? v->get<std::int64_t>() : 0;
}
bool item_id(const nlohmann::json& item, std::string& out) {
  if (!item.is_object()) return false;
  auto id = item.find("id");
  if (id == item.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) return false;
  out = id->get<std::string>();
  return true;
}
}  // namespace

void SyncCollection::remember(const std::string& id) {
  if (std::find(order_.begin(), order_.end(), id) == order_.end()) order_.push_back(id);
}

bool SyncCollection::apply_snapshot(const nlohmann::json& items) {
  if (!items.is_array()) return false;
  confirmed_.clear();
  order_.clear();
  for (const auto& item : items) apply_upsert(item);
  return true;
}

bool SyncCollection::apply_upsert(const nlohmann::json& item) {
  std::string id;
  if (!item_id(item, id)) return false;
  auto it = confirmed_.find(id);
  if (it != confirmed_.end() && version(it->second) > version(item)) return true;  // stale event
  confirmed_[id] = item;
  remember(id);
  return true;
}

void SyncCollection::apply_delete(const std::string& id) { confirmed_.erase(id); }

std::string SyncCollection::optimistic_insert(std::uint32_t op, const nlohmann::json& data) {
  std::string temp = "pending-" + std::to_string(op);
  pending_.push_back({op, Kind::kInsert, temp, data});
  remember(temp);
  return temp;
}

bool SyncCollection::optimistic_update(std::uint32_t op, const std::string& id, const nlohmann::json& patch) {
  if (!patch.is_object()) return false;
  pending_.push_back({op, Kind::kUpdate, id, patch});
  return true;
}

bool SyncCollection::optimistic_delete(std::uint32_t op, const std::string& id) {
  pending_.push_back({op, Kind::kDelete, id, nullptr});
  return true;
}

void SyncCollection::confirm(std::uint32_t op, const nlohmann::json& reply_data) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [op](const Op& o) { return o.ref == op; });
  if (it == pending_.end()) return;
  const Op done = std::move(*it);
  pending_.erase(it);
  if (reply_data.is_object() && reply_data.contains("item")) {
    const auto& item = reply_data["item"];
    std::string id;
    if (done.kind == Kind::kInsert && item_id(item, id)) {
      // The item takes the temporary item's place in the order.
      auto pos = std::find(order_.begin(), order_.end(), done.id);
      if (pos != order_.end() && std::find(order_.begin(), order_.end(), id) == order_.end()) *pos = id;
    }
    apply_upsert(item);
  } else if (done.kind == Kind::kDelete) {
    apply_delete(done.id);
  }
  if (done.kind == Kind::kInsert) order_.erase(std::remove(order_.begin(), order_.end(), done.id), order_.end());
}

void SyncCollection::reject(std::uint32_t op, const nlohmann::json* current) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [op](const Op& o) { return o.ref == op; });
  if (it == pending_.end()) return;
  const Op done = std::move(*it);
  pending_.erase(it);
  if (done.kind == Kind::kInsert) order_.erase(std::remove(order_.begin(), order_.end(), done.id), order_.end());
  if (current != nullptr) apply_upsert(*current);
}

std::int64_t SyncCollection::version_of(const std::string& id) const {
  auto it = confirmed_.find(id);
  return it == confirmed_.end() ? 0 : version(it->second);
}

nlohmann::json SyncCollection::items() const {
  std::unordered_map<std::string, nlohmann::json> view = confirmed_;
  for (const Op& op : pending_) {
    switch (op.kind) {
      case Kind::kInsert:
        view[op.id] = {{"id", op.id}, {"version", 0}, {"data", op.data}, {"pending", true}};
        break;
      case Kind::kUpdate: {
        auto it = view.find(op.id);
        if (it == view.end()) break;
        auto& data = it->second["data"];
        if (!data.is_object()) data = nlohmann::json::object();
        for (auto f = op.data.begin(); f != op.data.end(); ++f) data[f.key()] = f.value();
        it->second["pending"] = true;
        break;
      }
      case Kind::kDelete: view.erase(op.id); break;
    }
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& id : order_) {
    auto it = view.find(id);
    if (it != view.end()) out.push_back(it->second);
  }
  return out;
}

}  // namespace tidewire::client

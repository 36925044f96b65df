#include "client/sync_collection.hpp"

#include <algorithm>

namespace tidewire::client {

namespace {
std::int64_t version(const protocol::JsonValue& item) {
  const protocol::JsonValue* v = item.find("version");
  return v != nullptr ? v->as_int() : 0;  // 0 unless an integer
}
bool item_id(const protocol::JsonValue& item, std::string& out) {
  const protocol::JsonValue* id = item.find("id");
  if (id == nullptr || !id->is_string() || id->as_string().empty()) return false;
  out = id->as_string();
  return true;
}
}  // namespace

void SyncCollection::remember(const std::string& id) {
  if (std::find(order_.begin(), order_.end(), id) == order_.end()) order_.push_back(id);
}

bool SyncCollection::apply_snapshot(const protocol::JsonValue& items) {
  if (!items.is_array()) return false;
  confirmed_.clear();
  order_.clear();
  for (const auto& item : items.elements()) apply_upsert(item);
  return true;
}

bool SyncCollection::apply_upsert(const protocol::JsonValue& item) {
  std::string id;
  if (!item_id(item, id)) return false;
  auto it = confirmed_.find(id);
  if (it != confirmed_.end() && version(it->second) > version(item)) return true;  // stale event
  confirmed_[id] = item;
  remember(id);
  return true;
}

void SyncCollection::apply_delete(const std::string& id) { confirmed_.erase(id); }

std::string SyncCollection::optimistic_insert(std::uint32_t op, const protocol::JsonValue& data) {
  std::string temp = "pending-" + std::to_string(op);
  pending_.push_back({op, Kind::kInsert, temp, data});
  remember(temp);
  return temp;
}

bool SyncCollection::optimistic_update(std::uint32_t op, const std::string& id, const protocol::JsonValue& patch) {
  if (!patch.is_object()) return false;
  pending_.push_back({op, Kind::kUpdate, id, patch});
  return true;
}

bool SyncCollection::optimistic_delete(std::uint32_t op, const std::string& id) {
  pending_.push_back({op, Kind::kDelete, id, protocol::JsonValue()});
  return true;
}

void SyncCollection::confirm(std::uint32_t op, const protocol::JsonValue& reply_data) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [op](const Op& o) { return o.ref == op; });
  if (it == pending_.end()) return;
  const Op done = std::move(*it);
  pending_.erase(it);
  if (const protocol::JsonValue* reply_item = reply_data.find("item")) {
    const protocol::JsonValue& item = *reply_item;
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

void SyncCollection::reject(std::uint32_t op, const protocol::JsonValue* current) {
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

protocol::JsonValue SyncCollection::items() const {
  std::unordered_map<std::string, protocol::JsonValue> view = confirmed_;
  for (const Op& op : pending_) {
    switch (op.kind) {
      case Kind::kInsert: {
        // Keys in alphabetical order, as the nlohmann objects this replaced wrote them.
        protocol::JsonValue& item = view[op.id] = protocol::JsonValue::object();
        item.set("data", op.data);
        item.set("id", protocol::JsonValue::string(op.id));
        item.set("pending", protocol::JsonValue::boolean(true));
        item.set("version", protocol::JsonValue::integer(0));
        break;
      }
      case Kind::kUpdate: {
        auto it = view.find(op.id);
        if (it == view.end()) break;
        protocol::JsonValue* data = it->second.find("data");
        if (data == nullptr || !data->is_object()) data = &it->second.set("data", protocol::JsonValue::object());
        for (const auto& field : op.data.members()) data->set(field.key, field.value);  // a shallow merge
        it->second.set("pending", protocol::JsonValue::boolean(true));
        break;
      }
      case Kind::kDelete: view.erase(op.id); break;
    }
  }
  protocol::JsonValue out = protocol::JsonValue::array();
  for (const auto& id : order_) {
    auto it = view.find(id);
    if (it != view.end()) out.push_back(std::move(it->second));
  }
  return out;
}

}  // namespace tidewire::client

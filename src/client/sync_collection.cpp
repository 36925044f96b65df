#include "client/sync_collection.hpp"

#include <algorithm>

#include "client/sorted_vector.hpp"

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

std::size_t SyncCollection::index_of(const Items& v, const std::string& id) {
  return lower_index(v, [&id](const protocol::JsonValue::Member& m) { return m.key < id; });
}

protocol::JsonValue* SyncCollection::find(Items& v, const std::string& id) {
  const std::size_t i = index_of(v, id);
  return i < v.size() && v[i].key == id ? &v[i].value : nullptr;
}

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
  const std::size_t i = index_of(confirmed_, id);
  if (i < confirmed_.size() && confirmed_[i].key == id) {
    if (version(confirmed_[i].value) > version(item)) return true;  // stale event
    confirmed_[i].value = item;
  } else {
    insert_at(confirmed_, i, protocol::JsonValue::Member{id, item});
  }
  remember(id);
  return true;
}

void SyncCollection::apply_delete(const std::string& id) {
  const std::size_t i = index_of(confirmed_, id);
  if (i < confirmed_.size() && confirmed_[i].key == id) {
    confirmed_.erase(confirmed_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

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

bool SyncCollection::reject(std::uint32_t op, const protocol::JsonValue* current) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [op](const Op& o) { return o.ref == op; });
  if (it == pending_.end()) return false;
  const Op done = std::move(*it);
  pending_.erase(it);
  if (done.kind == Kind::kInsert) order_.erase(std::remove(order_.begin(), order_.end(), done.id), order_.end());
  if (current == nullptr) return false;
  apply_upsert(*current);
  if (done.kind != Kind::kUpdate) return false;
  std::string id;
  if (!item_id(*current, id) || id != done.id) return false;
  const protocol::JsonValue* stored = current->find("data");
  if (stored == nullptr || !stored->is_object()) return false;
  for (const auto& field : done.data.members()) {
    const protocol::JsonValue* now = stored->find(field.key);
    // Compared as JSON text: a different key order or number spelling counts as different (reported).
    if (now == nullptr || now->dump() != field.value.dump()) return false;
  }
  return true;
}

std::int64_t SyncCollection::version_of(const std::string& id) const {
  const std::size_t i = index_of(confirmed_, id);
  return i < confirmed_.size() && confirmed_[i].key == id ? version(confirmed_[i].value) : 0;
}

protocol::JsonValue SyncCollection::items() const {
  Items view = confirmed_;
  for (const Op& op : pending_) {
    switch (op.kind) {
      case Kind::kInsert: {
        // Keys in alphabetical order, as the nlohmann objects this replaced wrote them.
        const std::size_t i = index_of(view, op.id);
        if (i == view.size() || view[i].key != op.id) insert_at(view, i, protocol::JsonValue::Member{op.id, {}});
        protocol::JsonValue& item = view[i].value = protocol::JsonValue::object();
        item.set("data", op.data);
        item.set("id", protocol::JsonValue::string(op.id));
        item.set("pending", protocol::JsonValue::boolean(true));
        item.set("version", protocol::JsonValue::integer(0));
        break;
      }
      case Kind::kUpdate: {
        protocol::JsonValue* item = find(view, op.id);
        if (item == nullptr) break;
        protocol::JsonValue* data = item->find("data");
        if (data == nullptr || !data->is_object()) data = &item->set("data", protocol::JsonValue::object());
        for (const auto& field : op.data.members()) data->set(field.key, field.value);  // a shallow merge
        item->set("pending", protocol::JsonValue::boolean(true));
        break;
      }
      case Kind::kDelete: {
        const std::size_t i = index_of(view, op.id);
        if (i < view.size() && view[i].key == op.id) view.erase(view.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
  }
  protocol::JsonValue out = protocol::JsonValue::array();
  for (const auto& id : order_) {
    if (protocol::JsonValue* item = find(view, id)) out.push_back(std::move(*item));
  }
  return out;
}

}  // namespace tidewire::client

#include "state/sync_collection.hpp"

#include <algorithm>

#include "state/json_fields.hpp"
#include "state/sorted_vector.hpp"

namespace tidewire::state {

namespace {
std::int64_t version(const Json& item) { return int_of(field(item, "version")); }  // 0 unless an integer
}  // namespace

std::size_t SyncCollection::index_of(const Items& v, const std::string& id) {
  return lower_index(v, [&id](const std::pair<std::string, Json>& m) { return m.first < id; });
}

Json* SyncCollection::find(Items& v, const std::string& id) {
  const std::size_t i = index_of(v, id);
  return i < v.size() && v[i].first == id ? &v[i].second : nullptr;
}

void SyncCollection::remember(const std::string& id) {
  if (std::find(order_.begin(), order_.end(), id) == order_.end()) order_.push_back(id);
}

bool SyncCollection::apply_snapshot(const Json& items) {
  if (!items.is_array()) return false;
  confirmed_.clear();
  order_.clear();
  for (const auto& item : items) apply_upsert(item);
  return true;
}

bool SyncCollection::apply_upsert(const Json& item) {
  std::string id;
  if (!string_field(item, "id", id)) return false;
  const std::size_t i = index_of(confirmed_, id);
  if (i < confirmed_.size() && confirmed_[i].first == id) {
    if (version(confirmed_[i].second) > version(item)) return true;  // stale event
    confirmed_[i].second = item;
  } else {
    insert_at(confirmed_, i, std::pair<std::string, Json>(id, item));
  }
  remember(id);
  return true;
}

void SyncCollection::apply_delete(const std::string& id) {
  const std::size_t i = index_of(confirmed_, id);
  if (i < confirmed_.size() && confirmed_[i].first == id) {
    confirmed_.erase(confirmed_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

std::string SyncCollection::optimistic_insert(std::uint32_t op, const Json& data) {
  std::string temp = "pending-" + std::to_string(op);
  pending_.push_back({op, Kind::kInsert, temp, data});
  remember(temp);
  return temp;
}

bool SyncCollection::optimistic_update(std::uint32_t op, const std::string& id, const Json& patch) {
  if (!patch.is_object()) return false;
  pending_.push_back({op, Kind::kUpdate, id, patch});
  return true;
}

bool SyncCollection::optimistic_delete(std::uint32_t op, const std::string& id) {
  pending_.push_back({op, Kind::kDelete, id, Json()});
  return true;
}

void SyncCollection::confirm(std::uint32_t op, const Json& reply_data) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [op](const Op& o) { return o.ref == op; });
  if (it == pending_.end()) return;
  const Op done = std::move(*it);
  pending_.erase(it);
  if (const Json* reply_item = field(reply_data, "item")) {
    const Json& item = *reply_item;
    std::string id;
    if (done.kind == Kind::kInsert && string_field(item, "id", id)) {
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

bool SyncCollection::reject(std::uint32_t op, const Json* current) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [op](const Op& o) { return o.ref == op; });
  if (it == pending_.end()) return false;
  const Op done = std::move(*it);
  pending_.erase(it);
  if (done.kind == Kind::kInsert) order_.erase(std::remove(order_.begin(), order_.end(), done.id), order_.end());
  if (current == nullptr) return false;
  apply_upsert(*current);
  if (done.kind != Kind::kUpdate) return false;
  std::string id;
  if (!string_field(*current, "id", id) || id != done.id) return false;
  const Json* stored = field(*current, "data");
  if (stored == nullptr || !stored->is_object()) return false;
  for (const auto& f : done.data.items()) {
    const auto now = stored->find(f.key());
    // Compared as JSON values (1 and 1.0 are equal; key order does not matter).
    if (now == stored->end() || *now != f.value()) return false;
  }
  return true;
}

std::int64_t SyncCollection::version_of(const std::string& id) const {
  const std::size_t i = index_of(confirmed_, id);
  return i < confirmed_.size() && confirmed_[i].first == id ? version(confirmed_[i].second) : 0;
}

Json SyncCollection::items() const {
  Items view = confirmed_;
  for (const Op& op : pending_) {
    switch (op.kind) {
      case Kind::kInsert: {
        const std::size_t i = index_of(view, op.id);
        if (i == view.size() || view[i].first != op.id) insert_at(view, i, std::pair<std::string, Json>(op.id, Json()));
        view[i].second = Json{{"data", op.data}, {"id", op.id}, {"pending", true}, {"version", 0}};
        break;
      }
      case Kind::kUpdate: {
        Json* item = find(view, op.id);
        if (item == nullptr || !item->is_object()) break;
        Json& data = (*item)["data"];
        if (!data.is_object()) data = Json::object();
        for (const auto& f : op.data.items()) data[f.key()] = f.value();  // a shallow merge
        (*item)["pending"] = true;
        break;
      }
      case Kind::kDelete: {
        const std::size_t i = index_of(view, op.id);
        if (i < view.size() && view[i].first == op.id) view.erase(view.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
  }
  Json out = Json::array();
  for (const auto& id : order_) {
    if (Json* item = find(view, id)) out.push_back(std::move(*item));
  }
  return out;
}

}  // namespace tidewire::state

#include "server/sync_store.hpp"

namespace tidewire::server {

using nlohmann::json;

json SyncItem::to_json() const {
  return json{{"id", std::to_string(id)},
              {"version", version},
              {"data", data},
              {"updatedAt", updated_at},
              {"updatedBy", updated_by}};
}

void merge_sync_patch(json& data, const json& patch) {
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) data.erase(key);
    else data[key] = value;
  }
}

std::string dump_sync_data(const json& data) { return data.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace tidewire::server

// A data-sync collection (docs/PROTOCOL.md section 12): the items the server confirmed (snapshot + change
// events) plus this client's optimistic operations still waiting for the server. The visible items are the
// confirmed ones with the pending operations applied in order; a refused operation is simply dropped, which
// rolls it back. Events are idempotent by (id, version), so a reply and its broadcast may arrive in any order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <utility>

#include <nlohmann/json.hpp>

namespace tidewire::state {

using Json = nlohmann::ordered_json;

class SyncCollection {
 public:
  // Confirmed state from the server.
  bool apply_snapshot(const Json& items);
  bool apply_upsert(const Json& item);  // sync_insert / sync_update event, or a reply's item
  void apply_delete(const std::string& id);

  // Optimistic operations, keyed by the request ref that carries them to the server.
  // Insert returns the temporary id the item shows under until the server assigns one.
  std::string optimistic_insert(std::uint32_t op, const Json& data);
  bool optimistic_update(std::uint32_t op, const std::string& id, const Json& patch);
  bool optimistic_delete(std::uint32_t op, const std::string& id);
  // The server accepted op: `reply_data` is the reply's data ({item} or {id}).
  void confirm(std::uint32_t op, const Json& reply_data);
  // The server refused op: roll it back. With a version conflict, `current` is the item as stored. Returns
  // true when the refused op asked for nothing `current` does not already hold (an update whose every field
  // equals the stored one, e.g. two users ticked the same box): the caller may drop the refusal quietly.
  bool reject(std::uint32_t op, const Json* current);

  // The visible items (confirmed + pending), in creation order.
  Json items() const;
  std::size_t pending_count() const { return pending_.size(); }
  // The confirmed version of `id` (0 when unknown): the expected version an update must name.
  std::int64_t version_of(const std::string& id) const;

 private:
  enum class Kind { kInsert, kUpdate, kDelete };
  struct Op {
    std::uint32_t ref;
    Kind kind;
    std::string id;
    Json data;
  };
  using Items = std::vector<std::pair<std::string, Json>>;  // id -> item, sorted by id
  void remember(const std::string& id);
  // The insert position of `id`: v.size() or the index of the first key not less than `id`.
  static std::size_t index_of(const Items& v, const std::string& id);
  static Json* find(Items& v, const std::string& id);

  Items confirmed_;                 // id -> item {id, version, data, ...}
  std::vector<std::string> order_;  // creation order of ids ever seen
  std::vector<Op> pending_;
};

}  // namespace tidewire::state

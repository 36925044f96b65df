// A channel's presence as the client sees it: the member map built from a full state and the diffs after it
// (docs/PROTOCOL.md section 10). The diffs received since the subscribe are kept (the newest 256) and applied again
// on top of every full state, so a state read before a diff that arrived first (or a diff that arrived before the
// first state) loses no join or leave. Not on the hot path: JSON is nlohmann::json.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tidewire::state {

using Json = nlohmann::ordered_json;

struct PresenceMember {
  std::string user_id;
  std::string status;  // online | away | busy
  Json info = Json::object();
  double joined_at = 0;
  int connections = 1;
};

class PresenceState {
 public:
  // `members`: the array of a presence_join / presence_get reply. Returns false when it is not an array.
  bool apply_state(const Json& members);
  // `diff`: a presence_diff message ({joins, leaves, updates}). Returns false when malformed.
  bool apply_diff(const Json& diff);
  // A message as the server sent it: presence_state ({members}) or presence_diff. Returns false when malformed.
  bool apply_message(const Json& message);
  void clear();
  // A new subscription (after a reconnect): the diffs of the old one are forgotten and the next full state
  // replaces the map. The members stay shown until then.
  void resubscribed();

  bool has_state() const { return has_state_; }
  std::size_t online_count() const { return members_.size(); }
  const PresenceMember* find(const std::string& user_id) const;
  // The members as a JSON array, ordered by joinedAt then userId.
  Json members() const;

 private:
  bool upsert(const Json& m);
  bool apply_diff_now(const Json& diff);
  std::size_t index_of(const std::string& user_id) const;  // the insert position; == size() or a match

  std::vector<PresenceMember> members_;  // sorted by user_id
  std::vector<Json> recent_diffs_;  // since the subscribe (clear()), oldest first, bounded
  bool has_state_ = false;
};

}  // namespace tidewire::state

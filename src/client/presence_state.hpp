// A channel's presence as the client sees it: the member map built from a full state and the diffs after it
// (docs/PROTOCOL.md section 10). Diffs that arrive before the first state are buffered and applied after it,
// so no join or leave is lost or applied twice. Not on the hot path: uses the small JSON DOM (JsonValue).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "protocol/json_value.hpp"

namespace tidewire::client {

struct PresenceMember {
  std::string user_id;
  std::string status;  // online | away | busy
  protocol::JsonValue info = protocol::JsonValue::object();
  double joined_at = 0;
  int connections = 1;
};

class PresenceState {
 public:
  // `members`: the array of a presence_join / presence_get reply. Returns false when it is not an array.
  bool apply_state(const protocol::JsonValue& members);
  // `diff`: a presence_diff message ({joins, leaves, updates}). Returns false when malformed.
  bool apply_diff(const protocol::JsonValue& diff);
  void clear();

  bool has_state() const { return has_state_; }
  std::size_t online_count() const { return members_.size(); }
  const PresenceMember* find(const std::string& user_id) const;
  // The members as a JSON array, ordered by joinedAt then userId.
  protocol::JsonValue members() const;

 private:
  bool upsert(const protocol::JsonValue& m);
  bool apply_diff_now(const protocol::JsonValue& diff);
  std::size_t index_of(const std::string& user_id) const;  // the insert position; == size() or a match

  std::vector<PresenceMember> members_;  // sorted by user_id
  std::vector<protocol::JsonValue> pending_diffs_;
  bool has_state_ = false;
};

}  // namespace tidewire::client

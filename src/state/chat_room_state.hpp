// One chat room as the client sees it (docs/PROTOCOL.md section 11): messages in order with paging backwards
// and resuming forwards, edits, reactions (counts and who reacted), this user's own messages while they wait
// for the server (pending, then confirmed or failed), the room's participants with their join/leave lines, and
// typing users that expire by themselves (the clock is passed in, so tests use a virtual one).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tidewire::state {

using Json = nlohmann::ordered_json;

class ChatRoomState {
 public:
  explicit ChatRoomState(double typing_ttl_ms = 6000) : typing_ttl_ms_(typing_ttl_ms) {}

  // A chat_history reply's data ({messages, hasMore}) fetched with `before`: older messages join the front.
  bool apply_history(const Json& data);
  // A chat_history reply's data fetched with `after` (the resume after every (re)subscribe, and the refetch
  // after a gap): newer messages merge in by id (no duplicates, order kept); has_more() (older pages) stays.
  bool apply_newer(const Json& data);
  // A new or edited message (events `message`, `message_edited`, or a chat_send reply's message). A message
  // carrying the `clientId` of a pending one from the same sender settles it (the event may come before the
  // chat_send reply): the room never shows one message twice.
  bool apply_message(const Json& message);
  // A `reaction` event: {messageId, emoji, count, userId?, add?}. Updates `reactions` (counts) and
  // `reactedBy` ({emoji: [userId, …]}) when the event names the user.
  bool apply_reaction(const Json& event);
  // A `typing` event: {userId, typing, expiresAt?}. Typing ends by itself after the TTL without a refresh.
  bool apply_typing(const Json& event, double now_ms);

  // This user's own messages before the server stored them, keyed by their client message id (chat_send `id`).
  // add_pending takes the message as shown ({id, clientId, senderId, text, createdAt, …}, `id` unlike any server
  // id) and shows it after the confirmed messages, in send order, with `status` "pending". mark_pending sets
  // `status` "failed" with `error` (non-empty), or back to "pending" (retrying) when `error` is empty.
  // settle_pending removes it: with the server's message (confirmed; added unless already here), or with nullptr
  // (discarded). Each returns false when it changed nothing (no such pending message, and for settle_pending
  // no message to add).
  bool add_pending(const Json& message);
  bool mark_pending(const std::string& client_id, const std::string& error);
  bool settle_pending(const std::string& client_id, const Json* message);
  std::size_t pending_count() const { return pending_.size(); }

  // Participants: the full list (an array of user ids, e.g. from chat_list_rooms), and the `member_joined` /
  // `member_left` events ({userId}) at time `at_ms`. An event that changes the list is kept as a join/leave
  // line (the newest kMaxMemberEvents).
  static constexpr std::size_t kMaxMemberEvents = 100;
  bool set_participants(const Json& ids);
  bool apply_member(const Json& event, bool joined, double at_ms);
  Json participants() const;  // user ids, sorted
  Json member_events() const;  // [{userId, joined, at}], oldest first

  // Messages, oldest first, then the pending ones.
  Json messages() const;
  std::size_t message_count() const { return messages_.size(); }  // confirmed ones
  bool has_more() const { return has_more_; }
  // The id to page back from (the oldest message), or "" when empty.
  std::string oldest_id() const;
  // The id to resume after (the newest confirmed message), or "" when empty.
  std::string newest_id() const;
  // Users typing now (expired ones are dropped).
  std::vector<std::string> typing_users(double now_ms);
  // When the next typing entry expires (infinity if none).
  double next_typing_expiry() const;

 private:
  struct Message {
    double at;  // createdAt: (at, id) is a stable total order
    std::string id;
    Json value;
  };
  using ByName = std::vector<std::pair<std::string, double>>;  // sorted by name
  static std::size_t index_of(const ByName& v, const std::string& name);
  Json* find(const std::string& id);
  std::size_t pending_index(const std::string& client_id) const;  // pending_.size() when absent
  void settle_echo(const Json& message);  // removes the pending copy `message` confirms, if any
  bool merge_page(const Json& data);

  std::vector<Message> messages_;  // sorted by (at, id)
  ByName created_at_;              // id -> createdAt, the key of its message
  ByName typing_until_;            // userId -> monotonic expiry
  std::vector<Message> pending_;   // in send order; `id` holds the client id (one vector type: smaller wasm)
  ByName participants_;            // userId -> 0 (the ByName helpers keep the wasm small)
  Json member_events_ = Json::array();
  bool has_more_ = true;
  double typing_ttl_ms_;
};

}  // namespace tidewire::state

// The chat_* requests (docs/PROTOCOL.md section 11): input checks, access control, persistence through
// ChatStore, and the live events on `chat:<roomId>`.
//
// Access: only active participants read or write a room (history, send, edit, react, typing, mark read) and
// subscribe to its channel. Anyone may join a public room; a private room (and a DM) only the users listed in
// it, who may leave and rejoin. A room a user cannot see answers `forbidden`; a room that does not exist,
// `not_found`. Only the creator deletes a room (not a DM). Leaving or deletion ends the subscriptions to
// `chat:<roomId>` at once (Broadcaster::end_subscriptions).
//
// The room list is live: every change of a room as chat_list_rooms shows it to a user is pushed to that user's
// `user:<userId>` channel as event `room`, and a room that leaves the list as `room_removed`.
#include <algorithm>

#include "protocol/names.hpp"
#include "protocol/wire.hpp"
#include "server/service_impl.hpp"

namespace tidewire::server {

using nlohmann::json;
namespace err = wire::error;

namespace {

constexpr std::size_t kMaxRoomNameChars = wire::chat_limits::kRoomNameMaxChars;
constexpr std::size_t kMaxParticipants = 100;
constexpr std::size_t kMaxTextChars = wire::chat_limits::kTextMaxChars;
constexpr std::size_t kMaxEmojiBytes = wire::chat_limits::kEmojiMaxBytes;
constexpr std::int64_t kDefaultHistory = 50;
constexpr std::int64_t kMaxHistory = 200;

// One request being answered: saves passing ctx and ref to every check.
struct Request {
  ServiceContext& ctx;
  const json& msg;
  std::string_view ref;
  Services::Impl& impl;

  void fail(std::string_view code, std::string_view message) { ctx.error(ref, code, message); }
  void db_failed() { impl.db_failed(ctx, ref, impl.chat->reachable(), "chat"); }
};

// The text of `key`: 1..max_chars characters (code points), not only whitespace or zero-width characters, or
// nullptr after answering. Nothing is ever cut or stripped.
const std::string* text_field(Request& r, const char* key, std::size_t max_chars) {
  const std::string* s = fields::string(r.msg, key);
  const std::string limit = std::to_string(max_chars);
  if (!s) {
    r.fail(err::kBadRequest, std::string("\"") + key + "\" must be a string of 1-" + limit + " characters");
    return nullptr;
  }
  if (const std::size_t n = fields::utf8_length(*s); n > max_chars) {
    r.fail(err::kBadRequest, std::string("\"") + key + "\" has " + std::to_string(n) + " characters; the limit is " +
                                 limit + ". Nothing is cut: shorten it or split it");
    return nullptr;
  }
  if (fields::is_blank_text(*s)) {
    r.fail(err::kBadRequest, std::string("\"") + key +
                                 "\" is empty or only whitespace / zero-width characters; write something visible");
    return nullptr;
  }
  return s;
}

std::optional<std::int64_t> id_field(Request& r, const char* key) {
  auto id = fields::id(r.msg, key);
  if (!id) r.fail(err::kBadRequest, fields::id_error(key));
  return id;
}

// The payload of a `typing` event.
json typing_event(const std::string& user, bool typing, std::int64_t expires_at) {
  return json{{"userId", user}, {"typing", typing}, {"expiresAt", expires_at}};
}

json with_summary(const ChatRoomSummary& s) {
  json room = s.room.to_json();
  room["lastMessage"] = s.last_message ? s.last_message->to_json() : json(nullptr);
  room["unreadCount"] = s.unread_count;
  return room;
}

}  // namespace

bool Services::Impl::push_room(std::int64_t room_id, std::string_view only_user) {
  ChatRoom room;
  bool found = false;
  std::optional<std::int64_t> last;
  if (!chat->load_room(room_id, room, found) || !chat->last_message_id(room_id, last)) return false;
  json base = room.to_json();
  base["lastMessage"] = nullptr;
  if (last) {
    ChatMessage m;
    if (!chat->load_message(room_id, *last, m, found)) return false;
    base["lastMessage"] = m.to_json();
  }
  for (const std::string& user : room.participants) {
    if (!only_user.empty() && user != only_user) continue;
    const std::string channel = user_channel(user);
    if (!protocol::is_valid_channel(channel)) continue;  // such a user could not subscribe to it anyway
    std::int64_t unread = 0;
    if (!chat->unread_count(room_id, user, unread)) return false;
    json summary = base;
    summary["unreadCount"] = unread;
    out.publish(channel, "room", "", json{{"room", std::move(summary)}});
  }
  return true;
}

void Services::Impl::push_room_removed(std::int64_t room_id, const std::string& user, std::string_view reason) {
  const std::string channel = user_channel(user);
  if (!protocol::is_valid_channel(channel)) return;
  out.publish(channel, "room_removed", "", json{{"roomId", std::to_string(room_id)}, {"reason", reason}});
}

bool Services::Impl::may_subscribe_chat(std::string_view user, std::string_view channel) {
  const auto room = fields::parse_id(channel.substr(5));  // after "chat:"
  return room && chat->membership(*room, user) == Membership::kActive;
}

void Services::Impl::expire_typing(std::uint64_t now) {
  std::vector<std::pair<std::string, std::string>> expired;
  {
    std::lock_guard lock(typing_mutex);
    expired = typing.expire(now);
  }
  for (const auto& [room, user] : expired)
    out.publish_transient("chat:" + room, "typing", user, typing_event(user, false, static_cast<std::int64_t>(now)));
}

void Services::Impl::handle_chat(ServiceContext& ctx, std::string_view type, const json& msg, std::string_view ref) {
  static constexpr std::string_view kTypes[] = {
      "chat_create_room", "chat_open_dm", "chat_join",  "chat_leave",  "chat_list_rooms", "chat_history",
      "chat_send",        "chat_edit",    "chat_react", "chat_typing", "chat_mark_read",  "chat_delete_room"};
  if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes))
    return ctx.error(ref, err::kUnknownType, "unknown chat message type");

  Request r{ctx, msg, ref, *this};
  const std::string user(ctx.user_id());
  const auto now = static_cast<std::int64_t>(clock());

  if (type == "chat_create_room") {
    const std::string* name = text_field(r, "name", kMaxRoomNameChars);
    if (!name) return;
    std::string visibility = "public";
    if (const json* v = fields::any(msg, "visibility")) {
      if (!v->is_string() || (*v != "public" && *v != "private"))
        return r.fail(err::kBadRequest, "visibility must be \"public\" or \"private\"");
      visibility = v->get<std::string>();
    }
    std::vector<std::string> participants;
    if (const json* p = fields::any(msg, "participants")) {
      if (!p->is_array() || p->size() > kMaxParticipants)
        return r.fail(err::kBadRequest, "participants must be an array of at most 100 user ids");
      for (const json& u : *p) {
        if (!u.is_string() || !fields::is_valid_user_id(u.get_ref<const std::string&>()))
          return r.fail(err::kBadRequest, "participants must be user ids (1-128 bytes, no control characters)");
        participants.push_back(u.get<std::string>());
      }
    }
    const auto room = chat->create_room(*name, visibility, user, participants, now);
    if (!room) return r.db_failed();
    ctx.reply(ref, json{{"room", room->to_json()}});
    push_room(room->id);
    return;
  }

  if (type == "chat_open_dm") {
    const std::string* other = fields::string(msg, "userId");
    if (!other || !fields::is_valid_user_id(*other))
      return r.fail(err::kBadRequest, "\"userId\" must be a user id (1-128 bytes, no control characters)");
    if (*other == user) return r.fail(err::kBadRequest, "a direct message needs another user");
    const auto room = chat->open_dm(user, *other, now);
    if (!room) return r.db_failed();
    ctx.reply(ref, json{{"room", room->to_json()}});
    push_room(room->id);
    return;
  }

  if (type == "chat_list_rooms") {
    std::vector<ChatRoomSummary> rooms;
    if (!chat->list_rooms(user, rooms)) return r.db_failed();
    json list = json::array();
    for (const ChatRoomSummary& s : rooms) list.push_back(with_summary(s));
    return ctx.reply(ref, json{{"rooms", std::move(list)}});
  }

  // Every other request names a room.
  const auto room_id = id_field(r, "roomId");
  if (!room_id) return;
  const Membership m = chat->membership(*room_id, user);
  if (m == Membership::kError) return r.db_failed();
  if (m == Membership::kNoRoom) return r.fail(err::kNotFound, "no such room");
  ChatRoom room;
  bool found = false;
  const std::string channel = chat_channel(*room_id);

  if (type == "chat_join") {
    if (!chat->load_room(*room_id, room, found)) return found ? r.db_failed() : r.fail(err::kNotFound, "no such room");
    if (m == Membership::kNone && room.visibility != "public")
      return r.fail(err::kForbidden, "this room is private: joining it needs an invitation");
    bool changed = false;
    if (!chat->join(*room_id, user, now, changed) || !chat->load_room(*room_id, room, found)) return r.db_failed();
    ctx.reply(ref, json{{"room", room.to_json()}});
    if (changed) {
      out.publish(channel, "member_joined", user, json{{"roomId", room.to_json()["id"]}, {"userId", user}});
      push_room(*room_id);
    }
    return;
  }

  if (type == "chat_leave") {
    if (m == Membership::kNone) return r.fail(err::kForbidden, "you are not a participant of this room");
    bool changed = false;
    if (!chat->leave(*room_id, user, changed) || !chat->load_room(*room_id, room, found)) return r.db_failed();
    ctx.reply(ref, json{{"room", room.to_json()}});
    if (changed) {
      if (typing_stop(std::to_string(*room_id), user))
        out.publish_transient(channel, "typing", user, typing_event(user, false, now));
      out.publish(channel, "member_left", user, json{{"roomId", std::to_string(*room_id)}, {"userId", user}});
      out.end_subscriptions(channel, user, wire::unsubscribe_reason::kRoomLeft,
                            "you left this chat room; chat_join it (a private room: while still invited) to come back");
      push_room_removed(*room_id, user, wire::unsubscribe_reason::kRoomLeft);
      push_room(*room_id);  // the remaining participants
    }
    return;
  }

  if (type == "chat_delete_room") {
    if (!chat->load_room(*room_id, room, found)) return found ? r.db_failed() : r.fail(err::kNotFound, "no such room");
    if (room.kind == "dm")
      return r.fail(err::kBadRequest, "a direct-message room cannot be deleted; leave it with chat_leave");
    if (room.created_by != user) return r.fail(err::kForbidden, "only the room's creator (createdBy) may delete it");
    if (!chat->delete_room(*room_id)) return r.db_failed();
    for (const std::string& p : room.participants) typing_stop(std::to_string(*room_id), p);
    ctx.reply(ref, json{{"roomId", std::to_string(*room_id)}});
    out.publish(channel, "room_deleted", user, json{{"roomId", std::to_string(*room_id)}});
    out.end_subscriptions(channel, "", wire::unsubscribe_reason::kRoomDeleted,
                          "this chat room was deleted by its creator; it no longer exists");
    for (const std::string& p : room.participants)
      push_room_removed(*room_id, p, wire::unsubscribe_reason::kRoomDeleted);
    return;
  }

  if (m != Membership::kActive) return r.fail(err::kForbidden, "only participants of a room may read or write it");

  if (type == "chat_history") {
    std::optional<std::int64_t> before;
    std::optional<std::int64_t> after;
    if (fields::any(msg, "before") && !(before = id_field(r, "before"))) return;
    if (fields::any(msg, "after") && !(after = id_field(r, "after"))) return;
    if (before && after)
      return r.fail(err::kBadRequest, "give \"before\" (older messages) or \"after\" (newer ones), not both");
    std::int64_t limit = kDefaultHistory;
    if (fields::any(msg, "limit")) {
      const auto l = fields::integer(msg, "limit", 1, INT64_MAX);
      if (!l) return r.fail(err::kBadRequest, "limit must be a positive integer (at most 200 are returned)");
      limit = std::min(*l, kMaxHistory);
    }
    std::vector<ChatMessage> messages;
    bool has_more = false;
    const bool stored = after ? chat->history_after(*room_id, *after, static_cast<int>(limit), messages, has_more)
                              : chat->history(*room_id, before, static_cast<int>(limit), messages, has_more);
    if (!stored) return r.db_failed();
    json list = json::array();
    for (const ChatMessage& msg_ : messages) list.push_back(msg_.to_json());
    return ctx.reply(ref, json{{"messages", std::move(list)}, {"hasMore", has_more}});
  }

  if (type == "chat_send") {
    const std::string* text = text_field(r, "text", kMaxTextChars);
    if (!text) return;
    std::optional<std::string_view> client_id;
    if (const json* id = fields::any(msg, "id")) {
      if (!id->is_string() || id->get_ref<const std::string&>().empty() ||
          id->get_ref<const std::string&>().size() > wire::defaults::kMaxRefBytes)
        return r.fail(err::kBadRequest, "id (the client message id) must be a string of 1-64 bytes");
      client_id = id->get_ref<const std::string&>();
    }
    ChatMessage message;
    bool duplicate = false;
    if (!chat->send(*room_id, user, *text, client_id, now, message, duplicate)) return r.db_failed();
    json data{{"message", message.to_json()}};
    if (duplicate) data["duplicate"] = true;  // stored before: not broadcast again
    ctx.reply(ref, data);
    if (duplicate) return;
    if (typing_stop(std::to_string(*room_id), user))  // a sent message ends the sender's typing indicator
      out.publish_transient(channel, "typing", user, typing_event(user, false, now));
    out.publish(channel, "message", user, data["message"]);
    push_room(*room_id);
    return;
  }

  if (type == "chat_typing") {
    const json* on = fields::any(msg, "typing");
    if (!on || !on->is_boolean()) return r.fail(err::kBadRequest, "typing must be a boolean");
    const std::string key = std::to_string(*room_id);
    if (on->get<bool>()) {
      const std::uint64_t expires = typing_start(key, user, static_cast<std::uint64_t>(now));
      const auto expires_at = static_cast<std::int64_t>(expires);
      return out.publish_transient(channel, "typing", user, typing_event(user, true, expires_at));
    }
    if (typing_stop(key, user))
      out.publish_transient(channel, "typing", user, typing_event(user, false, now));
    return;  // no reply (section 11)
  }

  // The rest act on one message of the room.
  const auto message_id = id_field(r, "messageId");
  if (!message_id) return;
  ChatMessage message;
  if (!chat->load_message(*room_id, *message_id, message, found))
    return found ? r.db_failed() : r.fail(err::kNotFound, "no such message in this room");

  if (type == "chat_edit") {
    const std::string* text = text_field(r, "text", kMaxTextChars);
    if (!text) return;
    if (message.sender_id != user) return r.fail(err::kForbidden, "only the sender may edit a message");
    if (!chat->edit(*message_id, *text, now) || !chat->load_message(*room_id, *message_id, message, found))
      return r.db_failed();
    const json data = message.to_json();
    ctx.reply(ref, json{{"message", data}});
    out.publish(channel, "message_edited", user, data);
    std::optional<std::int64_t> last;
    if (chat->last_message_id(*room_id, last) && last == *message_id) push_room(*room_id);
    return;
  }

  if (type == "chat_react") {
    const std::string* emoji = fields::string(msg, "emoji");
    if (!emoji || emoji->empty() || emoji->size() > kMaxEmojiBytes || fields::has_control_chars(*emoji))
      return r.fail(err::kBadRequest, "emoji must be a string of 1-32 bytes (UTF-8) without control characters");
    const json* add = fields::any(msg, "add");
    if (!add || !add->is_boolean()) return r.fail(err::kBadRequest, "add must be a boolean");
    std::int64_t count = 0;
    bool changed = false;
    if (!chat->react(*message_id, user, *emoji, add->get<bool>(), count, changed) ||
        !chat->load_message(*room_id, *message_id, message, found))
      return r.db_failed();
    const std::string mid = std::to_string(*message_id);
    const json data = message.to_json();
    ctx.reply(ref, json{{"messageId", mid}, {"reactions", data["reactions"]}, {"reactedBy", data["reactedBy"]}});
    if (!changed) return;  // a repeated add or remove: nothing new to tell
    out.publish(channel, "reaction", user,
                json{{"messageId", mid}, {"emoji", *emoji}, {"userId", user}, {"add", *add}, {"count", count}});
    std::optional<std::int64_t> last;
    if (chat->last_message_id(*room_id, last) && last == *message_id) push_room(*room_id);
    return;
  }

  if (type == "chat_mark_read") {
    std::int64_t unread = 0;
    bool moved = false;
    if (!chat->mark_read(*room_id, user, *message_id, unread, moved)) return r.db_failed();
    ctx.reply(ref, json{{"unreadCount", unread}});
    if (moved) push_room(*room_id, user);
    return;
  }

  r.fail(err::kUnknownType, "unknown chat message type");  // unreachable: kTypes lists every branch
}

}  // namespace tidewire::server

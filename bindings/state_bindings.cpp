// Exports of the state module (tidewire_state.wasm: presence, data sync and chat state, src/state), wrapped by
// WasmPresence, WasmSyncCollection, WasmChatRoom and WasmRoomList in web/src/state_module.ts. JSON text in and out, parsed and
// written by nlohmann/json: none of this is on the per-message hot path, and text keeps the JS side free of
// per-field conversions. Input that is not JSON is refused (false / '') and changes nothing. Plain C exports,
// not embind: this module has no Emscripten JS glue at all (its only imports are a memory-growth notice and
// proc_exit), which keeps its download small.
#include <emscripten/emscripten.h>

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "js_text.hpp"
#include "live_objects.hpp"
#include "state/chat_room_state.hpp"
#include "state/presence_state.hpp"
#include "state/room_list_state.hpp"
#include "state/sync_collection.hpp"

namespace tidewire::bindings {
namespace {

using state::Json;

// Parses (p, n) (no exceptions: the wasm build has none); false when it is not JSON.
bool parse(const char* p, std::size_t n, Json& out) {
  const std::string_view text = view(p, n);
  out = Json::parse(text.begin(), text.end(), nullptr, false);
  return !out.is_discarded();
}
std::string text(const char* p, std::size_t n) { return std::string(view(p, n)); }
// Invalid UTF-8 in a string is replaced (U+FFFD), never a throw.
const char* dump(const Json& v) { return out_text(v.dump(-1, ' ', false, Json::error_handler_t::replace)); }

}  // namespace

struct WasmPresence {
  state::PresenceState state;
  LiveObject live;
};
struct WasmSyncCollection {
  state::SyncCollection c;
  LiveObject live;
};
struct WasmRoomList {
  state::RoomListState list;
  LiveObject live;
};
struct WasmChatRoom {
  explicit WasmChatRoom(double typing_ttl_ms) : room(typing_ttl_ms) {}
  state::ChatRoomState room;
  LiveObject live;
};

}  // namespace tidewire::bindings

using tidewire::bindings::WasmChatRoom;
using tidewire::bindings::WasmPresence;
using tidewire::bindings::WasmRoomList;
using tidewire::bindings::WasmSyncCollection;
using tidewire::state::Json;
namespace b = tidewire::bindings;

extern "C" {

// Presence
EMSCRIPTEN_KEEPALIVE WasmPresence* tw_presence_new() { return std::make_unique<WasmPresence>().release(); }
EMSCRIPTEN_KEEPALIVE void tw_presence_delete(WasmPresence* p) { std::unique_ptr<WasmPresence> owned(p); }
EMSCRIPTEN_KEEPALIVE int tw_presence_apply_state(WasmPresence* p, const char* s, std::size_t n) {
  Json j;
  return b::parse(s, n, j) && p->state.apply_state(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_presence_apply_diff(WasmPresence* p, const char* s, std::size_t n) {
  Json j;
  return b::parse(s, n, j) && p->state.apply_diff(j) ? 1 : 0;
}
// A presence_state message (its members replace the map) or a presence_diff, as the server sent it.
EMSCRIPTEN_KEEPALIVE int tw_presence_apply_message(WasmPresence* p, const char* s, std::size_t n) {
  Json j;
  return b::parse(s, n, j) && p->state.apply_message(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE const char* tw_presence_members(WasmPresence* p) { return b::dump(p->state.members()); }
EMSCRIPTEN_KEEPALIVE double tw_presence_online_count(WasmPresence* p) {
  return static_cast<double>(p->state.online_count());
}
EMSCRIPTEN_KEEPALIVE int tw_presence_has_state(WasmPresence* p) { return p->state.has_state() ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE void tw_presence_clear(WasmPresence* p) { p->state.clear(); }
EMSCRIPTEN_KEEPALIVE void tw_presence_resubscribed(WasmPresence* p) { p->state.resubscribed(); }

// Data sync
EMSCRIPTEN_KEEPALIVE WasmSyncCollection* tw_sync_new() { return std::make_unique<WasmSyncCollection>().release(); }
EMSCRIPTEN_KEEPALIVE void tw_sync_delete(WasmSyncCollection* s) { std::unique_ptr<WasmSyncCollection> owned(s); }
EMSCRIPTEN_KEEPALIVE int tw_sync_apply_snapshot(WasmSyncCollection* s, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && s->c.apply_snapshot(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_sync_apply_upsert(WasmSyncCollection* s, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && s->c.apply_upsert(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE void tw_sync_apply_delete(WasmSyncCollection* s, const char* p, std::size_t n) {
  s->c.apply_delete(b::text(p, n));
}
// The temporary id of the optimistic item, or '' when the data is not JSON.
EMSCRIPTEN_KEEPALIVE const char* tw_sync_optimistic_insert(WasmSyncCollection* s, double op, const char* p,
                                                           std::size_t n) {
  Json j;
  if (!b::parse(p, n, j)) return b::out_text("");
  return b::out_text(s->c.optimistic_insert(static_cast<std::uint32_t>(op), j));
}
EMSCRIPTEN_KEEPALIVE int tw_sync_optimistic_update(WasmSyncCollection* s, double op, const char* ip, std::size_t in,
                                                   const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && s->c.optimistic_update(static_cast<std::uint32_t>(op), b::text(ip, in), j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_sync_optimistic_delete(WasmSyncCollection* s, double op, const char* ip, std::size_t in) {
  return s->c.optimistic_delete(static_cast<std::uint32_t>(op), b::text(ip, in)) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE void tw_sync_confirm(WasmSyncCollection* s, double op, const char* p, std::size_t n) {
  Json j;
  if (!b::parse(p, n, j)) j = Json();
  s->c.confirm(static_cast<std::uint32_t>(op), j);
}
// `current`: the stored item of a version conflict, or '' for a plain refusal. 1 when the refused change is
// already what is stored (drop the refusal quietly).
EMSCRIPTEN_KEEPALIVE int tw_sync_reject(WasmSyncCollection* s, double op, const char* p, std::size_t n) {
  Json j;
  const bool has_current = n > 0 && b::parse(p, n, j) && j.is_object();
  return s->c.reject(static_cast<std::uint32_t>(op), has_current ? &j : nullptr) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE const char* tw_sync_items(WasmSyncCollection* s) { return b::dump(s->c.items()); }
EMSCRIPTEN_KEEPALIVE double tw_sync_pending_count(WasmSyncCollection* s) {
  return static_cast<double>(s->c.pending_count());
}
EMSCRIPTEN_KEEPALIVE double tw_sync_version_of(WasmSyncCollection* s, const char* p, std::size_t n) {
  return static_cast<double>(s->c.version_of(b::text(p, n)));
}

// Chat
EMSCRIPTEN_KEEPALIVE WasmChatRoom* tw_chat_new(double typing_ttl_ms) {
  return std::make_unique<WasmChatRoom>(typing_ttl_ms).release();
}
EMSCRIPTEN_KEEPALIVE void tw_chat_delete(WasmChatRoom* r) { std::unique_ptr<WasmChatRoom> owned(r); }
EMSCRIPTEN_KEEPALIVE int tw_chat_apply_history(WasmChatRoom* r, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && r->room.apply_history(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_chat_apply_message(WasmChatRoom* r, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && r->room.apply_message(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_chat_apply_reaction(WasmChatRoom* r, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && r->room.apply_reaction(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_chat_apply_typing(WasmChatRoom* r, const char* p, std::size_t n, double now_ms) {
  Json j;
  return b::parse(p, n, j) && r->room.apply_typing(j, now_ms) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_chat_apply_newer(WasmChatRoom* r, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && r->room.apply_newer(j) ? 1 : 0;
}
// Own messages before the server confirmed them, by client message id.
EMSCRIPTEN_KEEPALIVE int tw_chat_add_pending(WasmChatRoom* r, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && r->room.add_pending(j) ? 1 : 0;
}
// `error` '' marks it pending again (a retry), else failed with that error.
EMSCRIPTEN_KEEPALIVE int tw_chat_mark_pending(WasmChatRoom* r, const char* ip, std::size_t in, const char* p,
                                              std::size_t n) {
  return r->room.mark_pending(b::text(ip, in), b::text(p, n)) ? 1 : 0;
}
// Removes it: confirmed with the server's message (JSON), or discarded when the message is ''.
EMSCRIPTEN_KEEPALIVE int tw_chat_settle_pending(WasmChatRoom* r, const char* ip, std::size_t in, const char* p,
                                                std::size_t n) {
  Json j;
  const bool has_message = n > 0 && b::parse(p, n, j);
  return r->room.settle_pending(b::text(ip, in), has_message ? &j : nullptr) ? 1 : 0;
}
// Participants: a JSON array of user ids; member events {userId} with their time.
EMSCRIPTEN_KEEPALIVE int tw_chat_set_participants(WasmChatRoom* r, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && r->room.set_participants(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_chat_apply_member(WasmChatRoom* r, const char* p, std::size_t n, int joined, double at_ms) {
  Json j;
  return b::parse(p, n, j) && r->room.apply_member(j, joined != 0, at_ms) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE const char* tw_chat_participants(WasmChatRoom* r) { return b::dump(r->room.participants()); }
EMSCRIPTEN_KEEPALIVE const char* tw_chat_member_events(WasmChatRoom* r) { return b::dump(r->room.member_events()); }
EMSCRIPTEN_KEEPALIVE const char* tw_chat_messages(WasmChatRoom* r) { return b::dump(r->room.messages()); }
EMSCRIPTEN_KEEPALIVE double tw_chat_message_count(WasmChatRoom* r) {
  return static_cast<double>(r->room.message_count());
}
EMSCRIPTEN_KEEPALIVE int tw_chat_has_more(WasmChatRoom* r) { return r->room.has_more() ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE const char* tw_chat_oldest_id(WasmChatRoom* r) { return b::out_text(r->room.oldest_id()); }
EMSCRIPTEN_KEEPALIVE const char* tw_chat_newest_id(WasmChatRoom* r) { return b::out_text(r->room.newest_id()); }
// JSON array of user ids.
EMSCRIPTEN_KEEPALIVE const char* tw_chat_typing_users(WasmChatRoom* r, double now_ms) {
  Json users = Json::array();
  for (std::string& user : r->room.typing_users(now_ms)) users.push_back(std::move(user));
  return b::dump(users);
}
// -1 when nobody is typing.
EMSCRIPTEN_KEEPALIVE double tw_chat_next_typing_expiry(WasmChatRoom* r) {
  const double d = r->room.next_typing_expiry();
  return d == std::numeric_limits<double>::infinity() ? -1 : d;
}

// Room list
EMSCRIPTEN_KEEPALIVE WasmRoomList* tw_rooms_new() { return std::make_unique<WasmRoomList>().release(); }
EMSCRIPTEN_KEEPALIVE void tw_rooms_delete(WasmRoomList* r) { std::unique_ptr<WasmRoomList> owned(r); }
EMSCRIPTEN_KEEPALIVE int tw_rooms_set_rooms(WasmRoomList* r, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && r->list.set_rooms(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_rooms_upsert(WasmRoomList* r, const char* p, std::size_t n) {
  Json j;
  return b::parse(p, n, j) && r->list.upsert(j) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int tw_rooms_remove(WasmRoomList* r, const char* p, std::size_t n) {
  return r->list.remove(b::text(p, n)) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE const char* tw_rooms_rooms(WasmRoomList* r) { return b::dump(r->list.rooms()); }

// Diagnostics: state containers alive in this module.
EMSCRIPTEN_KEEPALIVE int tw_live_objects() { return b::live_object_count(); }

}  // extern "C"

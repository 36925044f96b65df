// embind classes for the client's state containers (presence, data sync, chat). JSON text in and out: none of
// this is on the per-message hot path, and JSON keeps the JS side free of embind value conversions.
#include <emscripten/bind.h>

#include <limits>
#include <string>

#include "client/chat_room_state.hpp"
#include "client/presence_state.hpp"
#include "client/sync_collection.hpp"

namespace tidewire::bindings {
namespace {

using nlohmann::json;

json parse(const std::string& text) { return json::parse(text, nullptr, false); }

class WasmPresence {
 public:
  bool applyState(const std::string& members_json) {
    const json j = parse(members_json);
    return !j.is_discarded() && state_.apply_state(j);
  }
  bool applyDiff(const std::string& diff_json) {
    const json j = parse(diff_json);
    return !j.is_discarded() && state_.apply_diff(j);
  }
  std::string members() const { return state_.members().dump(); }
  double onlineCount() const { return static_cast<double>(state_.online_count()); }
  bool hasState() const { return state_.has_state(); }
  void clear() { state_.clear(); }

 private:
  client::PresenceState state_;
};

class WasmSyncCollection {
 public:
  bool applySnapshot(const std::string& items_json) {
    const json j = parse(items_json);
    return !j.is_discarded() && c_.apply_snapshot(j);
  }
  bool applyUpsert(const std::string& item_json) {
    const json j = parse(item_json);
    return !j.is_discarded() && c_.apply_upsert(j);
  }
  void applyDelete(const std::string& id) { c_.apply_delete(id); }
  std::string optimisticInsert(double op, const std::string& data_json) {
    const json j = parse(data_json);
    return j.is_discarded() ? std::string() : c_.optimistic_insert(static_cast<std::uint32_t>(op), j);
  }
  bool optimisticUpdate(double op, const std::string& id, const std::string& patch_json) {
    const json j = parse(patch_json);
    return !j.is_discarded() && c_.optimistic_update(static_cast<std::uint32_t>(op), id, j);
  }
  bool optimisticDelete(double op, const std::string& id) {
    return c_.optimistic_delete(static_cast<std::uint32_t>(op), id);
  }
  void confirm(double op, const std::string& reply_data_json) {
    const json j = parse(reply_data_json);
    c_.confirm(static_cast<std::uint32_t>(op), j.is_discarded() ? json() : j);
  }
  // `current_json` is the stored item of a version conflict, or "" for a plain refusal.
  void reject(double op, const std::string& current_json) {
    const json j = current_json.empty() ? json() : parse(current_json);
    c_.reject(static_cast<std::uint32_t>(op), j.is_object() ? &j : nullptr);
  }
  std::string items() const { return c_.items().dump(); }
  double pendingCount() const { return static_cast<double>(c_.pending_count()); }
  double versionOf(const std::string& id) const { return static_cast<double>(c_.version_of(id)); }

 private:
  client::SyncCollection c_;
};

class WasmChatRoom {
 public:
  explicit WasmChatRoom(double typing_ttl_ms) : room_(typing_ttl_ms) {}
  bool applyHistory(const std::string& data_json) {
    const json j = parse(data_json);
    return !j.is_discarded() && room_.apply_history(j);
  }
  bool applyMessage(const std::string& message_json) {
    const json j = parse(message_json);
    return !j.is_discarded() && room_.apply_message(j);
  }
  bool applyReaction(const std::string& event_json) {
    const json j = parse(event_json);
    return !j.is_discarded() && room_.apply_reaction(j);
  }
  bool applyTyping(const std::string& event_json, double now_ms) {
    const json j = parse(event_json);
    return !j.is_discarded() && room_.apply_typing(j, now_ms);
  }
  std::string messages() const { return room_.messages().dump(); }
  double messageCount() const { return static_cast<double>(room_.message_count()); }
  bool hasMore() const { return room_.has_more(); }
  std::string oldestId() const { return room_.oldest_id(); }
  std::string typingUsers(double now_ms) { return json(room_.typing_users(now_ms)).dump(); }
  // -1 when nobody is typing.
  double nextTypingExpiry() const {
    const double d = room_.next_typing_expiry();
    return d == std::numeric_limits<double>::infinity() ? -1 : d;
  }

 private:
  client::ChatRoomState room_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(tidewire_state) {
  emscripten::class_<WasmPresence>("WasmPresence")
      .constructor<>()
      .function("applyState", &WasmPresence::applyState)
      .function("applyDiff", &WasmPresence::applyDiff)
      .function("members", &WasmPresence::members)
      .function("onlineCount", &WasmPresence::onlineCount)
      .function("hasState", &WasmPresence::hasState)
      .function("clear", &WasmPresence::clear);
  emscripten::class_<WasmSyncCollection>("WasmSyncCollection")
      .constructor<>()
      .function("applySnapshot", &WasmSyncCollection::applySnapshot)
      .function("applyUpsert", &WasmSyncCollection::applyUpsert)
      .function("applyDelete", &WasmSyncCollection::applyDelete)
      .function("optimisticInsert", &WasmSyncCollection::optimisticInsert)
      .function("optimisticUpdate", &WasmSyncCollection::optimisticUpdate)
      .function("optimisticDelete", &WasmSyncCollection::optimisticDelete)
      .function("confirm", &WasmSyncCollection::confirm)
      .function("reject", &WasmSyncCollection::reject)
      .function("items", &WasmSyncCollection::items)
      .function("pendingCount", &WasmSyncCollection::pendingCount)
      .function("versionOf", &WasmSyncCollection::versionOf);
  emscripten::class_<WasmChatRoom>("WasmChatRoom")
      .constructor<double>()
      .function("applyHistory", &WasmChatRoom::applyHistory)
      .function("applyMessage", &WasmChatRoom::applyMessage)
      .function("applyReaction", &WasmChatRoom::applyReaction)
      .function("applyTyping", &WasmChatRoom::applyTyping)
      .function("messages", &WasmChatRoom::messages)
      .function("messageCount", &WasmChatRoom::messageCount)
      .function("hasMore", &WasmChatRoom::hasMore)
      .function("oldestId", &WasmChatRoom::oldestId)
      .function("typingUsers", &WasmChatRoom::typingUsers)
      .function("nextTypingExpiry", &WasmChatRoom::nextTypingExpiry);
}

}  // namespace tidewire::bindings

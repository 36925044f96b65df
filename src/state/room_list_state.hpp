// This user's chat rooms as the room list shows them (docs/PROTOCOL.md section 11, "Room list"): the summaries
// of chat_list_rooms, kept current by the `room` and `room_removed` events of the user's channel, in the
// server's order: rooms with messages by their last message's id, newest first, then the others by id, newest
// first. Ids are decimal strings compared as integers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tidewire::state {

using Json = nlohmann::ordered_json;

class RoomListState {
 public:
  // A chat_list_rooms answer (an array of room summaries, or {rooms: [...]}): replaces the list. False when it
  // is neither (nothing changes).
  bool set_rooms(const Json& rooms);
  // A room summary ({id, name, …, lastMessage?, unreadCount?}), e.g. a `room` event or a createRoom answer:
  // added or replaced. A bare room (no lastMessage / unreadCount) keeps the summary fields the list has.
  // False when it has no string id.
  bool upsert(const Json& room);
  // False when the room is not listed.
  bool remove(const std::string& room_id);

  Json rooms() const;  // an array, in list order
  std::size_t size() const { return list().size(); }

 private:
  // The rooms in list order, as nlohmann's own array (std::vector<Json>): no container type of our own, which
  // keeps the state module's wasm small.
  Json::array_t& list() { return rooms_.get_ref<Json::array_t&>(); }
  const Json::array_t& list() const { return rooms_.get_ref<const Json::array_t&>(); }
  void insert_sorted(Json room);
  std::size_t index_of(const std::string& room_id) const;  // size() when absent

  Json rooms_ = Json::array();
};

}  // namespace tidewire::state

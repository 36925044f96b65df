#include "state/room_list_state.hpp"

#include <algorithm>
#include <utility>

#include "state/json_fields.hpp"

namespace tidewire::state {
namespace {

// Decimal ids compared as integers; "" sorts first.
bool id_less(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

std::string last_message_id(const Json& room) {
  const Json* last = field(room, "lastMessage");
  return last != nullptr ? string_or(*last, "id", "") : std::string();
}

}  // namespace

void RoomListState::insert_sorted(Json room) {
  // `a` before `b` when `a` is more recent: rooms with a last message (newest first), then the others (newest id
  // first).
  const auto before = [](const Json& a, const Json& b) {
    const std::string la = last_message_id(a), lb = last_message_id(b);
    if (la != lb) {
      if (la.empty() || lb.empty()) return lb.empty();
      return id_less(lb, la);
    }
    return id_less(string_or(b, "id", ""), string_or(a, "id", ""));
  };
  Json::array_t& rooms = list();
  const auto at = std::upper_bound(rooms.begin(), rooms.end(), room, before);
  rooms.insert(at, std::move(room));
}

std::size_t RoomListState::index_of(const std::string& room_id) const {
  const Json::array_t& rooms = list();
  for (std::size_t i = 0; i < rooms.size(); ++i)
    if (string_or(rooms[i], "id", "") == room_id) return i;
  return rooms.size();
}

bool RoomListState::set_rooms(const Json& rooms) {
  const Json* given = rooms.is_array() ? &rooms : field(rooms, "rooms");
  if (given == nullptr || !given->is_array()) return false;
  list().clear();
  for (const Json& room : *given) {
    if (!room.is_object() || string_or(room, "id", "").empty()) continue;
    const std::size_t old = index_of(string_or(room, "id", ""));
    if (old != size()) list().erase(list().begin() + static_cast<std::ptrdiff_t>(old));
    insert_sorted(room);
  }
  return true;
}

bool RoomListState::upsert(const Json& room) {
  if (!room.is_object()) return false;
  const std::string id = string_or(room, "id", "");
  if (id.empty()) return false;
  Json next = room;
  const std::size_t old = index_of(id);
  const Json* previous = old != size() ? &list()[old] : nullptr;
  // A bare room keeps the list's summary fields; a new one starts with no message and nothing unread.
  if (!next.contains("lastMessage")) next["lastMessage"] = previous ? previous->value("lastMessage", Json()) : Json();
  if (!next.contains("unreadCount")) next["unreadCount"] = previous ? previous->value("unreadCount", Json(0)) : Json(0);
  if (previous) list().erase(list().begin() + static_cast<std::ptrdiff_t>(old));
  insert_sorted(std::move(next));
  return true;
}

bool RoomListState::remove(const std::string& room_id) {
  const std::size_t at = index_of(room_id);
  if (at == size()) return false;
  list().erase(list().begin() + static_cast<std::ptrdiff_t>(at));
  return true;
}

Json RoomListState::rooms() const { return rooms_; }

}  // namespace tidewire::state

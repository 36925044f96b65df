#include "server/chat_store.hpp"

namespace tidewire::server {

using nlohmann::json;

json ChatRoom::to_json() const {
  return json{{"id", std::to_string(id)},      {"name", name},           {"kind", kind},
              {"visibility", visibility},      {"participants", participants},
              {"createdBy", created_by},       {"createdAt", created_at}};
}

json ChatMessage::to_json() const {
  json out{{"id", std::to_string(id)},
              {"roomId", std::to_string(room_id)},
              {"senderId", sender_id},
              {"text", text},
              {"createdAt", created_at},
              {"editedAt", edited_at ? json(*edited_at) : json(nullptr)},
              {"reactions", reactions.empty() ? json::object() : json(reactions)},
              {"reactedBy", reacted_by.empty() ? json::object() : json(reacted_by)}};
  // The sender's tab matches its pending copy by it, whichever of the event and the reply comes first.
  if (!client_id.empty()) out["clientId"] = client_id;
  return out;
}

}  // namespace tidewire::server

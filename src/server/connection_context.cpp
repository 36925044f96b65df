#include "server/connection_context.hpp"

#include <nlohmann/json.hpp>

#include "server/handler_util.hpp"

namespace tidewire::server {

bool ConnectionContext::is_subscribed(std::string_view channel) const {
  return state_.channels.find(channel) != state_.channels.end();
}

std::string ConnectionContext::channel_denied(std::string_view channel) const {
  return check_channel_access(state_.user_id, state_.grant, channel, nullptr);
}

void ConnectionContext::reply(std::string_view ref, const nlohmann::json& data) {
  std::string out;
  protocol::encode_reply(out, ref, data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  sink_.send(std::move(out));
}

void ConnectionContext::error(std::string_view ref, std::string_view code, std::string_view message,
                              const nlohmann::json* extra) {
  if (!extra || !extra->is_object()) return detail::send_error(sink_, code, message, ref);
  nlohmann::json e = *extra;
  e["type"] = wire::type::kError;
  e["code"] = code;
  e["message"] = message;
  if (!ref.empty()) e["ref"] = ref;
  sink_.send(e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace tidewire::server

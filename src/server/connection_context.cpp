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

namespace {

std::string encode_reply(std::string_view ref, const nlohmann::json& data) {
  std::string out;
  protocol::encode_reply(out, ref, data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return out;
}

std::string encode_error(std::string_view ref, std::string_view code, std::string_view message,
                         const nlohmann::json* extra) {
  std::string out;
  if (!extra || !extra->is_object()) {
    protocol::encode_error(out, code, message, ref);
    return out;
  }
  nlohmann::json e = *extra;
  e["type"] = wire::type::kError;
  e["code"] = code;
  e["message"] = message;
  if (!ref.empty()) e["ref"] = ref;
  return e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A reply that `sink` sends when called, from any thread (SessionSink::send is thread-safe).
std::function<void(const nlohmann::json&)> later_reply(std::shared_ptr<SessionSink> sink, std::string_view ref) {
  return [sink = std::move(sink), ref = std::string(ref)](const nlohmann::json& data) {
    sink->send(encode_reply(ref, data));
  };
}

}  // namespace

void ConnectionContext::reply(std::string_view ref, const nlohmann::json& data) {
  sink_.send(encode_reply(ref, data));
}

std::function<void(const nlohmann::json&)> ConnectionContext::reply_later(std::string_view ref) {
  return later_reply(sink_.shared(), ref);
}

void ConnectionContext::error(std::string_view ref, std::string_view code, std::string_view message,
                              const nlohmann::json* extra) {
  sink_.send(encode_error(ref, code, message, extra));
}

SnapshotContext::SnapshotContext(const ConnectionProtocolState& state, std::shared_ptr<SessionSink> sink,
                                 std::string channel)
    : user_id_(state.user_id),
      connection_id_(state.connection_id),
      grant_(state.grant),
      channel_(std::move(channel)),
      subscribed_(!channel_.empty() && state.channels.find(channel_) != state.channels.end()),
      sink_(std::move(sink)) {}

std::string SnapshotContext::channel_denied(std::string_view channel) const {
  return check_channel_access(user_id_, grant_, channel, nullptr);  // the grant is a copy: safe on any thread
}

void SnapshotContext::reply(std::string_view ref, const nlohmann::json& data) {
  answer_.push_back(encode_reply(ref, data));
}

std::function<void(const nlohmann::json&)> SnapshotContext::reply_later(std::string_view ref) {
  return later_reply(sink_, ref);
}

void SnapshotContext::error(std::string_view ref, std::string_view code, std::string_view message,
                            const nlohmann::json* extra) {
  answer_.push_back(encode_error(ref, code, message, extra));
}

void SnapshotContext::send_answer() {
  for (std::string& m : answer_) sink_->send(std::move(m));
  answer_.clear();
}

}  // namespace tidewire::server

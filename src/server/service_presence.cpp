// presence_join / presence_update / presence_leave / presence_get (docs/PROTOCOL.md section 10).
#include "protocol/names.hpp"
#include "protocol/wire.hpp"
#include "server/service_impl.hpp"

namespace tidewire::server {

using nlohmann::json;
namespace err = wire::error;
namespace t = wire::type;

namespace {

constexpr std::size_t kMaxInfoBytes = 1024;

bool is_status(const std::string& s) { return s == "online" || s == "away" || s == "busy"; }

// Reads the optional `status` and `info`; false after answering with the error.
bool read_status_info(ServiceContext& ctx, const json& msg, std::string_view ref, const std::string*& status,
                      const json*& info) {
  status = nullptr;
  info = nullptr;
  if (const json* s = fields::any(msg, "status")) {
    if (!s->is_string() || !is_status(s->get_ref<const std::string&>())) {
      ctx.error(ref, err::kBadRequest, "status must be \"online\", \"away\" or \"busy\"");
      return false;
    }
    status = &s->get_ref<const std::string&>();
  }
  if (const json* i = fields::any(msg, "info")) {
    if (!i->is_object()) {
      ctx.error(ref, err::kBadRequest, "info must be a JSON object");
      return false;
    }
    if (fields::dump(*i).size() > kMaxInfoBytes) {
      ctx.error(ref, err::kBadRequest, "info must be at most 1 KiB of JSON");
      return false;
    }
    info = i;
  }
  return true;
}

}  // namespace

void Services::Impl::reply_members(ServiceContext& ctx, std::string_view ref, const std::string& channel) {
  presence.members_async(channel, [reply = ctx.reply_later(ref)](json members) {
    reply(json{{"members", std::move(members)}});
  });
}

void Services::Impl::handle_presence(ServiceContext& ctx, std::string_view type, const json& msg,
                                     std::string_view ref) {
  const std::string* channel = fields::string(msg, "channel");
  if (!channel || !protocol::is_valid_channel(*channel))
    return ctx.error(ref, err::kBadRequest, "a \"channel\" of 1-128 bytes of A-Z a-z 0-9 _ : . @ - is required");
  if (is_chat_channel(*channel))
    return ctx.error(ref, err::kForbidden,
                     "chat:<roomId> channels carry the chat service's events only; use another channel (such as "
                     "room:<name>) for presence");
  if (const std::string why = ctx.channel_denied(*channel); !why.empty()) return ctx.error(ref, err::kForbidden, why);
  if (!ctx.is_subscribed(*channel))
    return ctx.error(ref, err::kNotSubscribed, "subscribe to the channel before using its presence");

  const std::uint64_t now = clock();
  if (type == t::kPresenceJoin) {
    const std::string* status;
    const json* info;
    if (!read_status_info(ctx, msg, ref, status, info)) return;
    const PresenceDiff diff = presence.join(*channel, ctx.user_id(), ctx.connection_id(), status, info, now);
    // The joiner gets the full state in the reply, then (like everyone) the diff; with Redis the reply waits for
    // the read (not holding this thread), and either may come first (section 10).
    reply_members(ctx, ref, *channel);
    return broadcast(diff);
  }
  if (type == t::kPresenceUpdate) {
    const std::string* status;
    const json* info;
    if (!read_status_info(ctx, msg, ref, status, info)) return;
    if (!status && !info) return ctx.error(ref, err::kBadRequest, "presence_update needs a \"status\" or an \"info\"");
    PresenceDiff diff;
    if (!presence.update(*channel, ctx.connection_id(), status, info, diff))
      return ctx.error(ref, err::kBadRequest, "send presence_join on this channel first");
    reply_members(ctx, ref, *channel);
    return broadcast(diff);
  }
  if (type == t::kPresenceLeave) {
    // Leaving twice, or without joining, is not an error: the state asked for holds.
    const PresenceDiff diff = presence.leave(*channel, ctx.connection_id(), now);
    ctx.reply(ref, json::object());
    return broadcast(diff);
  }
  if (type == t::kPresenceGet) return reply_members(ctx, ref, *channel);
  ctx.error(ref, err::kUnknownType, "unknown presence message type");
}

}  // namespace tidewire::server

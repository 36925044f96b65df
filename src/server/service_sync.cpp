// The sync_* requests (docs/PROTOCOL.md section 12): input checks, persistence through SyncStore, and the change
// events on the channel. Every request needs the connection to be subscribed to the channel.
#include "protocol/names.hpp"
#include "protocol/wire.hpp"
#include "server/changefeed_tables.hpp"
#include "server/service_impl.hpp"

namespace tidewire::server {

using nlohmann::json;
namespace err = wire::error;

void Services::Impl::handle_sync(ServiceContext& ctx, std::string_view type, const json& msg, std::string_view ref) {
  const bool known =
      type == "sync_snapshot" || type == "sync_insert" || type == "sync_update" || type == "sync_delete";
  if (!known) return ctx.error(ref, err::kUnknownType, "unknown sync message type");

  const std::string* channel = fields::string(msg, "channel");
  if (!channel || !protocol::is_valid_channel(*channel))
    return ctx.error(ref, err::kBadRequest, "a \"channel\" of 1-128 bytes of A-Z a-z 0-9 _ : . @ - is required");
  const std::string* resource = fields::string(msg, "resource");
  if (!resource || !fields::is_valid_resource(*resource))
    return ctx.error(ref, err::kBadRequest, "a \"resource\" of 1-64 bytes of A-Z a-z 0-9 _ : . @ - is required");
  if (is_chat_channel(*channel))
    return ctx.error(ref, err::kForbidden,
                     "chat:<roomId> channels carry the chat service's events only; use another channel (such as "
                     "room:<name>) for sync");
  if (is_db_channel(*channel))  // only the database change feed publishes there (issue #16)
    return ctx.error(ref, err::kForbidden, "db: channels carry the database change feed only; use another channel "
                                           "(such as room:<name>) for sync");
  if (const std::string why = ctx.channel_denied(*channel); !why.empty()) return ctx.error(ref, err::kForbidden, why);
  if (!ctx.is_subscribed(*channel))
    return ctx.error(ref, err::kNotSubscribed, "subscribe to the channel before syncing its resources");

  const std::string user(ctx.user_id());
  const auto now = static_cast<std::int64_t>(clock());
  auto db_failed = [&] { this->db_failed(ctx, ref, sync->reachable(), "sync"); };
  auto conflict = [&](const SyncItem& current) {
    const json extra{{"current", current.to_json()}};
    ctx.error(ref, err::kVersionConflict, "the item changed since that version; merge with current and retry",
              &extra);
  };

  if (type == "sync_snapshot") {
    std::vector<SyncItem> items;
    if (!sync->snapshot(*channel, *resource, items)) return db_failed();
    json list = json::array();
    for (const SyncItem& item : items) list.push_back(item.to_json());
    return ctx.reply(ref, json{{"items", std::move(list)}});
  }

  if (type == "sync_insert") {
    const json* data = fields::any(msg, "data");
    if (!data || !data->is_object()) return ctx.error(ref, err::kBadRequest, "\"data\" must be a JSON object");
    if (fields::dump(*data).size() > SyncStore::kMaxItemBytes)
      return ctx.error(ref, err::kBadRequest, "\"data\" must be at most 64 KiB of JSON");
    SyncItem item;
    if (!sync->insert(*channel, *resource, *data, user, now, item)) return db_failed();
    const json payload{{"resource", *resource}, {"item", item.to_json()}};
    ctx.reply(ref, json{{"item", payload["item"]}});
    return out.publish(*channel, "sync_insert", user, payload);
  }

  const auto id = fields::id(msg, "id");
  if (!id) return ctx.error(ref, err::kBadRequest, fields::id_error("id"));
  std::optional<std::int64_t> version;
  if (fields::any(msg, "version") || type == "sync_update") {
    version = fields::integer(msg, "version", 1, INT64_MAX);
    if (!version) return ctx.error(ref, err::kBadRequest, "\"version\" must be a positive integer");
  }

  if (type == "sync_update") {
    const json* data = fields::any(msg, "data");
    if (!data || !data->is_object())
      return ctx.error(ref, err::kBadRequest, "\"data\" must be a JSON object (the fields to merge)");
    SyncItem item;
    switch (sync->update(*channel, *resource, *id, *version, *data, user, now, item)) {
      case SyncResult::kOk: break;
      case SyncResult::kNotFound: return ctx.error(ref, err::kNotFound, "no such item in this resource");
      case SyncResult::kConflict: return conflict(item);
      case SyncResult::kTooLarge: return ctx.error(ref, err::kBadRequest, "the merged item would exceed 64 KiB");
      case SyncResult::kError: return db_failed();
    }
    const json payload{{"resource", *resource}, {"item", item.to_json()}};
    ctx.reply(ref, json{{"item", payload["item"]}});
    return out.publish(*channel, "sync_update", user, payload);
  }

  // sync_delete
  SyncItem current;
  switch (sync->remove(*channel, *resource, *id, version, current)) {
    case SyncResult::kOk: break;
    case SyncResult::kNotFound: return ctx.error(ref, err::kNotFound, "no such item in this resource");
    case SyncResult::kConflict: return conflict(current);
    case SyncResult::kTooLarge:
    case SyncResult::kError: return db_failed();
  }
  const std::string id_text = std::to_string(*id);
  ctx.reply(ref, json{{"id", id_text}});
  out.publish(*channel, "sync_delete", user, json{{"resource", *resource}, {"id", id_text}});
}

}  // namespace tidewire::server

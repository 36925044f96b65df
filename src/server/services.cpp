// Services: dispatch, lifecycle and deferred events. The request handlers live in service_presence.cpp,
// service_chat.cpp and service_sync.cpp.
#include "server/services.hpp"

#include <algorithm>

#include "protocol/wire.hpp"
#include "server/chat_store_postgres.hpp"
#include "server/chat_store_sqlite.hpp"
#include "server/pg_migrations.hpp"
#include "server/service_impl.hpp"
#include "server/sync_store_postgres.hpp"
#include "server/sync_store_sqlite.hpp"

namespace tidewire::server {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Append-only: a released server's database is at some prefix of this list; never edit an entry, add one.
std::vector<std::string_view> migrations() { return {SqliteChatStore::schema_v1(), SqliteSyncStore::schema_v1()}; }
// The same for Postgres (pg_migrations.hpp).
std::vector<std::string_view> pg_migrations() { return {PgChatStore::schema_v1(), PgSyncStore::schema_v1()}; }

// How long a client waits before retrying a request the database could not answer.
constexpr std::uint64_t kDatabaseRetryMs = 1000;

}  // namespace

Services::Impl::Impl(ServicesConfig cfg, Broadcaster& broadcaster, Clock now)
    : config(std::move(cfg)),
      out(broadcaster),
      clock(std::move(now)),
      presence_owner(config.presence_store ? config.presence_store
                                           : std::make_shared<PresenceRegistry>(config.presence_grace_ms)),
      presence(*presence_owner),
      typing(config.typing_ttl_ms) {
  if (!config.database.empty()) {
    PgPool::Options options;
    options.conninfo = config.database;
    options.size = config.database_pool;
    pg = std::make_unique<PgPool>(std::move(options), [](PgConnection& c, std::string& error) {
      return pg_migrate(c, pg_migrations(), error);
    });
    chat = std::make_unique<PgChatStore>(*pg);
    sync = std::make_unique<PgSyncStore>(*pg);
    db_ok = true;  // requests reach the database, or answer `unavailable`, one by one
    if (!pg->acquire()) open_error = pg->last_error();  // connects and migrates now, when it can
    return;
  }
  chat = std::make_unique<SqliteChatStore>(db);
  sync = std::make_unique<SqliteSyncStore>(db);
  if (!db.open(config.db_path)) {
    open_error = db.last_error();
  } else if (!db.migrate(migrations())) {
    open_error = "cannot migrate " + config.db_path + ": " + db.last_error();
  } else {
    db_ok = true;
  }
}

std::uint64_t Services::Impl::typing_start(const std::string& room, const std::string& user, std::uint64_t now) {
  std::lock_guard lock(typing_mutex);
  return typing.start(room, user, now);
}

bool Services::Impl::typing_stop(const std::string& room, const std::string& user) {
  std::lock_guard lock(typing_mutex);
  return typing.stop(room, user);
}

void Services::Impl::db_failed(ServiceContext& ctx, std::string_view ref, bool reachable, std::string_view what) {
  if (reachable)
    return ctx.error(ref, wire::error::kInternal, "the " + std::string(what) + " store failed; retry");
  const nlohmann::json extra{{"retryAfterMs", kDatabaseRetryMs}};
  ctx.error(ref, wire::error::kUnavailable,
            "the server cannot reach its database; retry after retryAfterMs (nothing was changed)", &extra);
}

void Services::Impl::broadcast(const PresenceDiff& diff) {
  if (diff.empty()) return;
  out.send_raw(diff.channel, fields::dump(diff.to_message()));
}

Services::Services(ServicesConfig config, Broadcaster& broadcaster, Clock clock) {
  try {
    impl_ = std::make_unique<Impl>(std::move(config), broadcaster, std::move(clock));
  } catch (...) {  // only bad_alloc can get here; leave impl_ null and report it through ok()
    impl_.reset();
  }
}

Services::~Services() = default;

bool Services::ok() const {
  std::lock_guard lock(mutex_);
  return impl_ && impl_->db_ok;
}

std::string Services::open_error() const {
  std::lock_guard lock(mutex_);
  return impl_ ? impl_->open_error : std::string("out of memory");
}

bool Services::handles(std::string_view type) {
  // presence_diff is a server message: a client sending it gets unknown_type like any other unknown name.
  return type == wire::type::kPresenceJoin || type == wire::type::kPresenceUpdate ||
         type == wire::type::kPresenceLeave || type == wire::type::kPresenceGet || starts_with(type, "chat_") ||
         starts_with(type, "sync_");
}

void Services::handle(ServiceContext& ctx, std::string_view type, const nlohmann::json& msg, std::string_view ref) {
  try {
    if (!impl_) return ctx.error(ref, wire::error::kInternal, "the server's services failed to start");
    if (!msg.is_object()) return ctx.error(ref, wire::error::kBadRequest, "a message must be a JSON object");
    if (starts_with(type, "presence_")) {
      std::lock_guard lock(mutex_);
      return impl_->handle_presence(ctx, type, msg, ref);
    }
    // chat and sync: no services lock (see the header); the stores and the typing lock keep them safe.
    if (!impl_->db_ok) return ctx.error(ref, wire::error::kInternal, "the server's database is unavailable");
    if (starts_with(type, "chat_")) return impl_->handle_chat(ctx, type, msg, ref);
    if (starts_with(type, "sync_")) return impl_->handle_sync(ctx, type, msg, ref);
    ctx.error(ref, wire::error::kUnknownType, "unknown message type");
  } catch (...) {
    // Input problems are answered without exceptions; this is for bad_alloc and the like. Keep the process up.
    try {
      ctx.error(ref, wire::error::kInternal, "the server failed to handle the request; retry");
    } catch (...) {
    }
  }
}

bool Services::may_subscribe(std::string_view user_id, std::string_view channel) {
  try {
    if (!starts_with(channel, "chat:")) return true;
    return impl_ && impl_->db_ok && impl_->may_subscribe_chat(user_id, channel);
  } catch (...) {
    return false;
  }
}

std::optional<bool> Services::may_subscribe_checked(std::string_view user_id, std::string_view channel) {
  try {
    if (!starts_with(channel, "chat:")) return true;
    if (!impl_ || !impl_->db_ok) return false;
    const auto room = fields::parse_id(channel.substr(5));
    if (!room) return false;
    const Membership m = impl_->chat->membership(*room, user_id);
    if (m == Membership::kError) return std::nullopt;
    return m == Membership::kActive;
  } catch (...) {
    return std::nullopt;
  }
}

void Services::presence_members(std::string_view channel, std::function<void(nlohmann::json)> done) {
  try {
    std::lock_guard lock(mutex_);
    if (impl_) impl_->presence.subscriber_state(channel, std::move(done));
  } catch (...) {
    // Best effort, as before: no presence_state for this subscriber (its presence diffs still come).
  }
}

void Services::on_unsubscribe(std::string_view /*user_id*/, std::string_view connection_id,
                              std::string_view channel) {
  std::lock_guard lock(mutex_);
  if (!impl_) return;
  try {
    impl_->broadcast(impl_->presence.leave(channel, connection_id, impl_->clock()));
  } catch (...) {
  }
}

void Services::on_disconnect(std::string_view /*user_id*/, std::string_view connection_id) {
  std::lock_guard lock(mutex_);
  if (!impl_) return;
  try {
    for (const PresenceDiff& d : impl_->presence.leave_all(connection_id, impl_->clock())) impl_->broadcast(d);
  } catch (...) {
  }
}

void Services::tick() {
  std::lock_guard lock(mutex_);
  if (!impl_) return;
  try {
    const std::uint64_t now = impl_->clock();
    for (const PresenceDiff& d : impl_->presence.expire(now)) impl_->broadcast(d);
    impl_->expire_typing(now);
  } catch (...) {
  }
}

std::uint64_t Services::next_deadline_ms() const {
  std::lock_guard lock(mutex_);
  if (!impl_) return 0;
  const std::uint64_t a = impl_->presence.next_deadline();
  std::uint64_t b = 0;
  {
    std::lock_guard typing_lock(impl_->typing_mutex);
    b = impl_->typing.next_deadline();
  }
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

}  // namespace tidewire::server

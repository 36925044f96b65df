#include "server/config.hpp"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "server/changefeed_tables.hpp"
#include "server/random_id.hpp"
#include "server/redis_address.hpp"

namespace tidewire::server {

namespace {

// What is resolved after every source is read: where the secret comes from, and whether the history store
// was chosen explicitly.
struct SecretSources {
  std::optional<std::string> secret;
  std::optional<std::string> secret_file;
  bool set_by_flag = false;
  bool history_store_set = false;
};

// Applies one value; returns an error message (without the option name) or "".
using Apply = std::string (*)(Config&, SecretSources&, std::string_view);

struct Option {
  const char* flag;
  const char* env;
  const char* value_name;  // nullptr for a switch (no value)
  const char* help;        // mentions the default
  Apply apply;
};

// Parses a decimal integer in [lo, hi]; digits only (no sign, no spaces, no hex).
std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t lo, std::uint64_t hi) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::string range_error(std::uint64_t lo, std::uint64_t hi) {
  std::ostringstream os;
  os << "must be an integer from " << lo << " to " << hi;
  return os.str();
}

template <typename T, std::uint64_t Lo, std::uint64_t Hi>
std::string set_uint(T& field, std::string_view s) {
  auto v = parse_uint(s, Lo, Hi);
  if (!v) return range_error(Lo, Hi);
  field = static_cast<T>(*v);
  return {};
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off" || s.empty()) return false;
  return std::nullopt;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view item = s.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

constexpr std::uint64_t kMaxMs = 24ull * 3600 * 1000;

const Option kOptions[] = {
    {"--host", "TIDEWIRE_HOST", "HOST", "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       if (v.empty()) return "must not be empty";
       c.host = std::string(v);
       return {};
     }},
    {"--port", "TIDEWIRE_PORT", "PORT", "TCP port (default 8080; 0 = any free port)",
     [](Config& c, SecretSources&, std::string_view v) { return set_uint<std::uint16_t, 0, 65535>(c.port, v); }},
    {"--path", "TIDEWIRE_PATH", "PATH", "the one path that upgrades to WebSocket (default /ws)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       if (v.empty() || v.front() != '/' || v.find_first_of("?# ") != std::string_view::npos)
         return "must start with '/' and contain no '?', '#' or space";
       c.path = std::string(v);
       return {};
     }},
    {"--secret", "TIDEWIRE_SECRET", "SECRET", "HS256 key that verifies tokens (default: a development key, with a warning)",
     [](Config&, SecretSources& s, std::string_view v) -> std::string {
       if (v.empty()) return "must not be empty";
       s.secret = std::string(v);
       return {};
     }},
    {"--secret-file", "TIDEWIRE_SECRET_FILE", "FILE", "read the HS256 key from FILE (trailing newline ignored)",
     [](Config&, SecretSources& s, std::string_view v) -> std::string {
       if (v.empty()) return "must not be empty";
       s.secret_file = std::string(v);
       return {};
     }},
    {"--static-dir", "TIDEWIRE_STATIC_DIR", "DIR", "serve the files under DIR over HTTP (default: none)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       c.static_dir = std::string(v);
       return {};
     }},
    {"--dev-tokens", "TIDEWIRE_DEV_TOKENS", nullptr,
     "enable GET /dev/token?user=NAME, which signs a 1 h token for anyone (default off; never in production)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       auto b = parse_bool(v);
       if (!b) return "must be 1/true/yes/on or 0/false/no/off";
       c.dev_tokens = *b;
       return {};
     }},
    {"--allowed-origins", "TIDEWIRE_ALLOWED_ORIGINS", "A,B",
     "comma-separated Origins allowed to open a WebSocket, e.g. https://app.example (default: any)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       c.allowed_origins = split_list(v);
       return {};
     }},
    {"--max-message-bytes", "TIDEWIRE_MAX_MESSAGE_BYTES", "N",
     "largest client message, its fragments reassembled; bigger closes with 1009 (default 65536)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 1024, 64u << 20>(c.max_message_bytes, v);
     }},
    {"--max-channels", "TIDEWIRE_MAX_CHANNELS", "N", "channels one connection may join (default 100)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 1, 1000000>(c.max_channels, v);
     }},
    {"--threads", "TIDEWIRE_THREADS", "N", "I/O threads (default 1)",
     [](Config& c, SecretSources&, std::string_view v) { return set_uint<unsigned, 1, 256>(c.threads, v); }},
    {"--log-level", "TIDEWIRE_LOG_LEVEL", "LEVEL", "error|warn|info|debug (default info)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       auto level = parse_log_level(v);
       if (!level) return "must be one of error, warn, info, debug";
       c.log_level = *level;
       return {};
     }},
    {"--heartbeat-ms", "TIDEWIRE_HEARTBEAT_MS", "MS",
     "server WebSocket ping interval on an idle connection; no answer for twice that closes it (default 30000)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 100, kMaxMs>(c.heartbeat_ms, v);
     }},
    {"--auth-timeout-ms", "TIDEWIRE_AUTH_TIMEOUT_MS", "MS",
     "time a connection has to send its first-message auth; then close 4002 (default 5000)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 10, kMaxMs>(c.auth_timeout_ms, v);
     }},
    {"--write-delay-us", "TIDEWIRE_WRITE_DELAY_US", "US",
     "batch writes: each I/O thread flushes its connections' queued messages every US (default 0: no timer, at the end of each burst of reads)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 0, 1000000>(c.write_delay_us, v);
     }},
    {"--max-queued-bytes", "TIDEWIRE_MAX_QUEUED_BYTES", "N",
     "unsent bytes one connection may have queued; beyond: close 1013 slow consumer (default 4194304)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint64_t, 1024, 1ull << 34>(c.max_queued_bytes, v);
     }},
    {"--max-queued-messages", "TIDEWIRE_MAX_QUEUED_MESSAGES", "N",
     "unsent messages one connection may have queued; beyond: close 1013 (default 10000)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 1, 100000000>(c.max_queued_messages, v);
     }},
    {"--http-session-timeout-ms", "TIDEWIRE_HTTP_SESSION_TIMEOUT_MS", "MS",
     "an SSE or long-polling session with no stream or poll open ends after MS (default 30000)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 100, kMaxMs>(c.http_session_timeout_ms, v);
     }},
    {"--poll-timeout-ms", "TIDEWIRE_POLL_TIMEOUT_MS", "MS",
     "a long poll with nothing to return answers with an empty batch after MS (default 25000)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 10, kMaxMs>(c.poll_timeout_ms, v);
     }},
    {"--http-request-timeout-ms", "TIDEWIRE_HTTP_REQUEST_TIMEOUT_MS", "MS",
     "a whole HTTP request (headers and body) must arrive within MS; a partial one gets 408 (default 30000)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 100, kMaxMs>(c.http_request_timeout_ms, v);
     }},
    {"--history-size", "TIDEWIRE_HISTORY_SIZE", "N", "publications kept per channel for recovery and dedupe (default 10000)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 0, 1000000>(c.history_size, v);
     }},
    {"--history-ttl-ms", "TIDEWIRE_HISTORY_TTL_MS", "MS", "how long history is kept (default 300000: 5 minutes)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint64_t, 1, 30ull * kMaxMs>(c.history_ttl_ms, v);
     }},
    {"--history-store", "TIDEWIRE_HISTORY_STORE", "KIND",
     "sqlite|memory: sqlite keeps history and epochs in DATA_DIR/history.sqlite3, so clients recover across a "
     "restart; memory loses them on a restart (default sqlite; memory when --data-dir is :memory:)",
     [](Config& c, SecretSources& s, std::string_view v) -> std::string {
       if (v != "memory" && v != "sqlite") return "must be sqlite or memory";
       c.history_store = std::string(v);
       s.history_store_set = true;
       return {};
     }},
    {"--data-dir", "TIDEWIRE_DATA_DIR", "DIR",
     "directory of the SQLite databases, created when missing; :memory: keeps them in memory and implies "
     "--history-store memory (default ./data)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       if (v.empty()) return "must not be empty";
       c.data_dir = std::string(v);
       return {};
     }},
    {"--broker", "TIDEWIRE_BROKER", "URL",
     "memory|redis://host:port[/db]: where channel streams live; redis lets several nodes share them (chat and "
     "sync then need --database, or --data-dir :memory: for per-node chat and sync) (default memory)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       RedisAddress address;
       if (v != "memory" && !parse_redis_url(v, address)) return "must be memory or redis://host:port[/db]";
       c.broker = std::string(v);
       return {};
     }},
    {"--database", "TIDEWIRE_DATABASE", "URL",
     "postgres://user@host:port/db: keep chat and sync in Postgres (shared by every node) instead of SQLite under "
     "--data-dir; also the source of the change feed (default: none, SQLite)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       if (v.rfind("postgres://", 0) != 0 && v.rfind("postgresql://", 0) != 0)
         return "must be a postgres:// or postgresql:// URL";
       c.database = std::string(v);
       return {};
     }},
    {"--database-pool", "TIDEWIRE_DATABASE_POOL", "N",
     "Postgres connections this node keeps for chat and sync, one service worker thread each (default 4)",
     [](Config& c, SecretSources&, std::string_view v) { return set_uint<unsigned, 1, 256>(c.database_pool, v); }},
    {"--changefeed-tables", "TIDEWIRE_CHANGEFEED_TABLES", "LIST",
     "schema.table[(owner_column)],...: tables whose changes clients may watch on db:<schema>.<table> channels; "
     "with an owner column a client sees only rows whose owner_column equals its token's sub (needs --database) "
     "(default: none)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       std::string error;
       parse_changefeed_tables(v, error);
       if (!error.empty()) return error;
       c.changefeed_tables = std::string(v);
       return {};
     }},
    {"--changefeed-slot", "TIDEWIRE_CHANGEFEED_SLOT", "NAME",
     "the change feed's logical replication slot, created when missing; the nodes of one deployment share it, "
     "another deployment on the same Postgres cluster needs its own (default tidewire_changefeed)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       if (!is_plain_identifier(v)) return "must be 1-63 characters of a-z 0-9 _ (not starting with a digit)";
       for (char ch : v)
         if (ch >= 'A' && ch <= 'Z') return "must be lower case (Postgres slot names are a-z 0-9 _)";
       c.changefeed_slot = std::string(v);
       return {};
     }},
    {"--changefeed-lag-warning-bytes", "TIDEWIRE_CHANGEFEED_LAG_WARNING_BYTES", "BYTES",
     "log a warning while the change feed's slot holds more WAL than this (bound the WAL itself with Postgres's "
     "max_slot_wal_keep_size) (default 67108864)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint64_t, 1, (1ull << 60)>(c.changefeed_lag_warning_bytes, v);
     }},
    {"--node-id", "TIDEWIRE_NODE_ID", "ID", "this node's name at the broker (default: random)",
     [](Config& c, SecretSources&, std::string_view v) -> std::string {
       if (v.empty() || v.size() > 64 || v.find_first_of(" \t\r\n:") != std::string_view::npos)
         return "must be 1-64 characters without spaces or ':'";
       c.node_id = std::string(v);
       return {};
     }},
    {"--node-ttl-ms", "TIDEWIRE_NODE_TTL_MS", "MS",
     "with --broker redis: a node that has not refreshed its presence and connection entries for MS is dead: its "
     "connections stop counting and its users leave after MS plus the presence grace (default 10000)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint64_t, 100, kMaxMs>(c.node_ttl_ms, v);
     }},
    {"--presence-grace-ms", "TIDEWIRE_PRESENCE_GRACE_MS", "MS",
     "a presence member whose last connection left stays listed this long; a rejoin in time shows no leave "
     "(default 3000)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint64_t, 0, kMaxMs>(c.presence_grace_ms, v);
     }},
    {"--max-connections-per-user", "TIDEWIRE_MAX_CONNECTIONS_PER_USER", "N",
     "concurrent connections one user may hold; the next closes with 4005 (default 5; 0 = no limit)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 0, 1000000>(c.max_connections_per_user, v);
     }},
    {"--rate-limit", "TIDEWIRE_RATE_LIMIT", "N",
     "messages per second per connection (token bucket); excess gets rate_limited (default 100; 0 = off)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 0, 10000000>(c.rate_limit, v);
     }},
    {"--rate-burst", "TIDEWIRE_RATE_BURST", "N", "token bucket size of the rate limit (default 200)",
     [](Config& c, SecretSources&, std::string_view v) {
       return set_uint<std::uint32_t, 1, 10000000>(c.rate_burst, v);
     }},
};

const Option* find_flag(std::string_view name) {
  for (const Option& o : kOptions)
    if (name == o.flag) return &o;
  return nullptr;
}

bool read_secret_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  return true;
}

}  // namespace

EnvLookup process_env() {
  return [](const char* name, std::string& value) {
    const char* v = std::getenv(name);
    if (!v) return false;
    value = v;
    return true;
  };
}

ConfigResult parse_config(int argc, const char* const* argv, const EnvLookup& env) {
  ConfigResult result;
  SecretSources secrets;
  auto fail = [&](std::string message) {
    result.status = ConfigStatus::kError;
    result.error = std::move(message);
    return result;
  };

  // 1. Environment, in table order.
  for (const Option& o : kOptions) {
    std::string value;
    if (!env || !env(o.env, value)) continue;
    std::string err = o.apply(result.config, secrets, value);
    if (!err.empty()) return fail(std::string(o.env) + "=" + value + ": " + err);
  }

  // 2. Flags: --name value or --name=value.
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      result.status = ConfigStatus::kHelp;
      return result;
    }
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const Option* o = find_flag(name);
    if (!o) return fail("unknown option '" + std::string(arg) + "' (see --help)");
    if (!o->value_name) {
      if (!value) value = "1";  // a bare switch turns the feature on
    } else if (!value) {
      if (i + 1 >= argc) return fail(std::string(o->flag) + " needs a value " + o->value_name);
      value = argv[++i];
    }
    // A secret on the command line replaces both environment sources, so the two cannot clash by accident.
    if ((name == "--secret" || name == "--secret-file") && !secrets.set_by_flag) {
      secrets = SecretSources{};
      secrets.set_by_flag = true;
    }
    std::string err = o->apply(result.config, secrets, *value);
    if (!err.empty()) return fail(std::string(o->flag) + " " + std::string(*value) + ": " + err);
  }

  // 3. Resolve the secret.
  Config& c = result.config;
  if (secrets.secret && secrets.secret_file) return fail("give either a secret or a secret file, not both");
  if (secrets.secret_file) {
    if (!read_secret_file(*secrets.secret_file, c.secret))
      return fail("cannot read the secret file '" + *secrets.secret_file + "'");
    if (c.secret.empty()) return fail("the secret file '" + *secrets.secret_file + "' is empty");
  } else if (secrets.secret) {
    c.secret = *secrets.secret;
  } else {
    c.secret = kDevelopmentSecret;
    c.using_development_secret = true;
    result.warnings.emplace_back(
        "WARNING: no --secret or --secret-file given: using the public development secret '" +
        std::string(kDevelopmentSecret) + "'. Anyone can forge tokens for this server. Never use it in production.");
  }
  // 4. Nothing can persist under :memory:, so history lives in the hub alone.
  if (c.data_dir == ":memory:" && c.history_store != "memory") {
    if (secrets.history_store_set)
      result.warnings.emplace_back(
          "--history-store sqlite with --data-dir :memory: keeps history in memory only: it does not survive a "
          "restart. Give --data-dir a directory to keep it.");
    c.history_store = "memory";
  }
  // 5. Without --database, chat and sync keep per-node SQLite databases: several nodes would each have their own.
  if (c.broker != "memory" && c.data_dir != ":memory:" && c.database.empty())
    return fail("--broker " + c.broker + " needs --database postgres://... so that every node shares chat and "
                "sync (without it they live in per-node SQLite databases under --data-dir, which several nodes "
                "cannot share). For a test, --data-dir :memory: keeps chat and sync per node, in memory.");
  if (!c.changefeed_tables.empty() && c.database.empty())
    return fail("--changefeed-tables needs --database postgres://...: the change feed reads that database's "
                "write-ahead log");
  if (c.node_id.empty()) c.node_id = "n-" + make_connection_id().substr(2);
  if (c.dev_tokens)
    result.warnings.emplace_back("WARNING: --dev-tokens is on: GET /dev/token signs a token for any user name.");
  return result;
}

std::string usage_text() {
  std::ostringstream os;
  os << "Usage: tidewire-server [options]\n"
        "The tidewire reference WebSocket server (protocol version "
     << wire::kProtocolVersion
     << ", docs/PROTOCOL.md).\n"
        "Every option can also be set by the environment variable shown; the command line wins.\n\n";
  for (const Option& o : kOptions) {
    std::string left = std::string("  ") + o.flag;
    if (o.value_name) left += std::string(" ") + o.value_name;
    os << left;
    os << std::string(left.size() < 30 ? 30 - left.size() : 1, ' ');
    os << o.help << "  [env " << o.env << "]\n";
  }
  os << "  --help                      print this help and exit\n";
  return os.str();
}

}  // namespace tidewire::server

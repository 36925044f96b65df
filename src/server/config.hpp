// Server configuration: command-line flags and TIDEWIRE_* environment variables (flags win over the environment).
// `tidewire-server --help` prints every option with its default and environment name.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "protocol/wire.hpp"
#include "server/log.hpp"

namespace tidewire::server {

inline constexpr const char* kDevelopmentSecret = "tidewire-dev-secret";

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = let the OS pick (the real port is printed on startup)
  std::string path{wire::kDefaultPath};
  std::string secret;                  // HS256 key, resolved from --secret / --secret-file / the dev default
  bool using_development_secret = false;
  std::string static_dir;              // empty = no static files
  bool dev_tokens = false;             // GET /dev/token?user=NAME
  std::vector<std::string> allowed_origins;  // empty = allow every Origin
  std::uint32_t max_message_bytes = wire::defaults::kMaxMessageBytes;
  std::uint32_t max_channels = wire::defaults::kMaxChannelsPerConnection;
  unsigned threads = 1;
  LogLevel log_level = LogLevel::kInfo;
  std::uint32_t heartbeat_ms = wire::defaults::kHeartbeatIntervalMs;  // server ping interval when idle
  std::uint32_t auth_timeout_ms = wire::defaults::kAuthTimeoutMs;     // first-message auth deadline
  std::uint32_t write_delay_us = 0;   // batch for up to this long: one flush tick per I/O thread (flush_tick.hpp)
  std::uint64_t max_queued_bytes = 4u << 20;  // per connection; beyond this: close 1013 "slow consumer"
  std::uint32_t max_queued_messages = 10000;
  // HTTP transports (SSE, long polling; http_transport.hpp): a session with no stream or poll ends after this; a
  // poll with nothing to return answers empty after this; a whole HTTP request must arrive within this (408).
  std::uint32_t http_session_timeout_ms = wire::http_transport::kSessionTimeoutMs;
  std::uint32_t poll_timeout_ms = wire::http_transport::kPollTimeoutMs;
  std::uint32_t http_request_timeout_ms = 30000;
  // History and recovery (PROTOCOL.md section 9). The defaults lose nothing across a restart (kill -9 included)
  // or a disconnection of up to 5 minutes / 10,000 publications per channel.
  std::uint32_t history_size = 10000;       // publications kept per channel
  std::uint64_t history_ttl_ms = 300000;    // and for at most this long (5 minutes)
  std::string history_store = "sqlite";     // sqlite (DATA_DIR/history.sqlite3, survives restarts) | memory
  std::string data_dir = "./data";          // databases; ":memory:" keeps them in memory (and implies
                                            // history_store "memory")
  // Scale-out (README "Running several nodes"): "memory" (one node) or redis://host:port[/db].
  std::string broker = "memory";
  std::string node_id;                      // names this node to the broker; default: random ("n-" + 16 hex)
  // With --broker redis: a node refreshes its presence and connection entries every node_ttl_ms / 4; a node
  // silent for node_ttl_ms is dead, and its users leave after that plus the presence grace.
  std::uint64_t node_ttl_ms = 10000;
  // Postgres (README "Postgres"): empty = chat and sync in SQLite under data_dir (the embedded default);
  // postgres://... or postgresql://... (a libpq connection URI) = chat and sync in that database, shared by nodes.
  std::string database;
  unsigned database_pool = 4;               // Postgres connections per node (and service worker threads)
  // The database change feed: the tables clients may watch, "schema.table" or "schema.table(owner_column)"
  // (rows visible only where owner_column equals the token's sub), comma-separated. Empty: no change feed.
  std::string changefeed_tables;
  // The change feed's logical replication slot (one per database; nodes of one deployment share it).
  std::string changefeed_slot = "tidewire_changefeed";
  // A warning is logged while the slot holds more WAL than this (bytes behind pg_current_wal_lsn()).
  std::uint64_t changefeed_lag_warning_bytes = 64ull << 20;
  // Limits (section 14).
  std::uint32_t max_connections_per_user = 5;
  std::uint64_t presence_grace_ms = 3000;   // a member whose last connection left stays listed this long
  std::uint32_t rate_limit = 100;           // messages per second per connection (0 = off)
  std::uint32_t rate_burst = 200;
};

enum class ConfigStatus { kOk, kHelp, kError };

struct ConfigResult {
  ConfigStatus status = ConfigStatus::kOk;
  Config config;
  std::string error;                  // for kError: what is wrong, for the user
  std::vector<std::string> warnings;  // e.g. the development secret is in use
};

// Looks up an environment variable; returns false when unset. Injected so tests need not touch the real env.
using EnvLookup = std::function<bool(const char* name, std::string& value)>;
EnvLookup process_env();

// Parses argv (argv[0] is skipped) over the environment. Never throws; never exits.
ConfigResult parse_config(int argc, const char* const* argv, const EnvLookup& env);

// The --help text.
std::string usage_text();

}  // namespace tidewire::server

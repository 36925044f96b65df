// Decides what to do with one HTTP request, without Beast: answer it, or accept the WebSocket upgrade.
// The transport copies the few fields it needs into HttpRequestInfo and turns the RouteResult into bytes.
//
// Routes: GET /healthz; GET /metrics (once set_metrics() was called); GET /dev/token?user=NAME (only with --dev-tokens); the WebSocket path (upgrade only:
// Origin check -> 403, ?v= check -> 400, `jwt` subprotocol token check -> 401); static files when configured;
// anything else 404. Pre-upgrade checks happen here so a refused client never costs a WebSocket session.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/config.hpp"
#include "server/jwt_verifier.hpp"
#include "server/metrics.hpp"
#include "server/static_files.hpp"

namespace tidewire::server {

struct HttpRequestInfo {
  std::string_view method;  // "GET"
  std::string_view target;  // "/ws?v=1"
  bool websocket_upgrade = false;
  bool has_origin = false;
  std::string_view origin;
  std::string_view subprotocols;  // the Sec-WebSocket-Protocol value, e.g. "jwt, eyJ..."
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

struct RouteResult {
  enum class Kind { kRespond, kUpgrade };
  Kind kind = Kind::kRespond;
  HttpReply reply;               // kRespond
  bool echo_jwt = false;         // kUpgrade: answer Sec-WebSocket-Protocol: jwt
  std::string preauth_user;      // kUpgrade: the subject of a valid subprotocol token, else empty
  std::int64_t token_exp_s = 0;  // kUpgrade with a token: its exp
  JwtClaims preauth_claims;      // kUpgrade with a token: every claim
  bool binary = false;           // kUpgrade with ?binary=1: JSON batches go out as 0x00 binary frames
  bool compact = false;          // kUpgrade with ?binary=1&compact=1: protocol v2 compact batches (0x02)
};

class HttpRouter {
 public:
  using Clock = std::function<std::uint64_t()>;  // ms since the epoch

  // `static_files` may be null (no static serving). References must outlive the router.
  HttpRouter(const Config& config, const JwtVerifier& verifier, const StaticFiles* static_files, Clock clock);

  RouteResult route(const HttpRequestInfo& request) const;

  // Enables GET /metrics (Prometheus text) and counts refused upgrade tokens. `channels` gives the hub's
  // channel count. Call before serving.
  void set_metrics(Metrics* metrics, std::function<std::uint64_t()> channels) {
    metrics_ = metrics;
    channel_count_ = std::move(channels);
  }
  // GET /healthz answers 503 while `healthy` says false (the broker is unreachable). Call before serving.
  void set_health(std::function<bool()> healthy) { healthy_ = std::move(healthy); }

 private:
  RouteResult route_upgrade(const HttpRequestInfo& request, std::string_view query) const;
  HttpReply dev_token(std::string_view query) const;

  const Config& config_;
  const JwtVerifier& verifier_;
  const StaticFiles* static_files_;
  Clock clock_;
  Metrics* metrics_ = nullptr;
  std::function<std::uint64_t()> channel_count_;
  std::function<bool()> healthy_;
};

// The value of `key` in a query string ("a=1&b=2"), percent-decoded; nullopt when absent or malformed.
std::optional<std::string> query_param(std::string_view query, std::string_view key);

// The token from a Sec-WebSocket-Protocol list offering "jwt": the entry after "jwt". Sets `offered_jwt`.
std::string_view jwt_from_subprotocols(std::string_view header, bool& offered_jwt);

// A JSON error body {"error":code,"message":message}.
std::string json_error_body(std::string_view code, std::string_view message);

}  // namespace tidewire::server

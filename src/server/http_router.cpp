#include "server/http_router.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "protocol/wire.hpp"
#include "server/jwt_signer.hpp"

namespace tidewire::server {

namespace {

HttpReply reply(unsigned status, std::string body, std::string content_type = "application/json") {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

RouteResult respond(HttpReply r) {
  RouteResult result;
  result.kind = RouteResult::Kind::kRespond;
  result.reply = std::move(r);
  return result;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1-64 characters of [A-Za-z0-9_.-].
bool is_valid_dev_user(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

}  // namespace

std::string json_error_body(std::string_view code, std::string_view message) {
  nlohmann::json j = {{"error", code}, {"message", message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    const std::size_t eq = pair.find('=');
    const std::string_view k = pair.substr(0, eq);
    if (k == key) {
      std::string value;
      if (eq == std::string_view::npos) return value;
      if (!percent_decode(pair.substr(eq + 1), value, /*plus_is_space=*/true)) return std::nullopt;
      return value;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::string_view jwt_from_subprotocols(std::string_view header, bool& offered_jwt) {
  offered_jwt = false;
  std::size_t start = 0;
  while (start <= header.size()) {
    std::size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    const std::string_view item = trim(header.substr(start, end - start));
    if (offered_jwt) return item;  // the entry right after "jwt"
    if (item == wire::kJwtSubprotocol) offered_jwt = true;
    start = end + 1;
  }
  return {};
}

HttpRouter::HttpRouter(const Config& config, const JwtVerifier& verifier, const StaticFiles* static_files, Clock clock)
    : config_(config), verifier_(verifier), static_files_(static_files), clock_(std::move(clock)) {}

RouteResult HttpRouter::route(const HttpRequestInfo& request) const {
  if (request.target.empty() || request.target.front() != '/')
    return respond(reply(400, json_error_body("bad_request", "the request target must be an absolute path")));
  const std::size_t q = request.target.find('?');
  const std::string_view path = request.target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);

  if (request.websocket_upgrade) {
    if (path != config_.path)
      return respond(reply(404, json_error_body("not_found", "WebSocket connections are accepted on " + config_.path)));
    return route_upgrade(request, query);
  }

  if (request.method != "GET" && request.method != "HEAD") {
    HttpReply r = reply(405, json_error_body("method_not_allowed", "only GET and HEAD are supported"));
    r.headers.emplace_back("Allow", "GET, HEAD");
    return respond(std::move(r));
  }
  if (path == "/healthz") {
    if (healthy_ && !healthy_()) return respond(reply(503, R"({"status":"unavailable","broker":"down"})"));
    return respond(reply(200, R"({"status":"ok"})"));
  }
  if (path == "/metrics" && metrics_)
    return respond(reply(200, metrics_->render(channel_count_ ? channel_count_() : 0),
                         "text/plain; version=0.0.4; charset=utf-8"));
  if (path == "/dev/token" && config_.dev_tokens) return respond(dev_token(query));
  if (path == config_.path)
    return respond(reply(426, json_error_body("upgrade_required", "this path only accepts WebSocket upgrades")));
  if (static_files_) {
    if (auto file = static_files_->load(path)) {
      HttpReply r = reply(200, std::move(file->body), std::move(file->content_type));
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      r.headers.emplace_back("Cache-Control", "no-cache");
      return respond(std::move(r));
    }
  }
  return respond(reply(404, json_error_body("not_found", "no such resource")));
}

RouteResult HttpRouter::route_upgrade(const HttpRequestInfo& request, std::string_view query) const {
  // Browsers always send Origin; other clients usually do not, and are not the cross-site risk this guards.
  if (!config_.allowed_origins.empty() && request.has_origin) {
    const auto& allowed = config_.allowed_origins;
    if (std::find(allowed.begin(), allowed.end(), request.origin) == allowed.end())
      return respond(reply(403, json_error_body("forbidden_origin", "this Origin may not open a WebSocket here")));
  }

  const auto version = query_param(query, "v");
  if (version && *version != std::to_string(wire::kProtocolVersion)) {
    nlohmann::json body = {{"error", "unsupported_version"},
                           {"message", "this server speaks protocol version 1"},
                           {"supportedVersions", nlohmann::json::array({wire::kProtocolVersion})}};
    return respond(reply(400, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  }

  RouteResult result;
  result.kind = RouteResult::Kind::kUpgrade;
  const auto binary = query_param(query, "binary");
  result.binary = binary && (*binary == "1" || *binary == "true");
  const auto compact = query_param(query, "compact");
  result.compact = result.binary && compact && *compact == "1";
  bool offered_jwt = false;
  const std::string_view token = jwt_from_subprotocols(request.subprotocols, offered_jwt);
  if (!offered_jwt) return result;  // first-message auth

  const JwtResult verified = verifier_.verify(token, static_cast<std::int64_t>(clock_() / 1000));
  if (!verified.ok()) {
    if (metrics_) Metrics::add(metrics_->auth_failures);
    const char* code = verified.status == JwtStatus::kExpired ? "token_expired" : "auth_failed";
    return respond(reply(401, json_error_body(code, verified.reason)));
  }
  result.echo_jwt = true;
  result.preauth_user = verified.claims.sub;
  result.token_exp_s = verified.claims.exp;
  result.preauth_claims = verified.claims;
  return result;
}

HttpReply HttpRouter::dev_token(std::string_view query) const {
  const auto user = query_param(query, "user");
  if (!user || !is_valid_dev_user(*user))
    return reply(400, json_error_body("bad_request", "user must be 1-64 characters of A-Z a-z 0-9 _ . -"));
  const std::uint64_t now_ms = clock_();
  const std::int64_t now_s = static_cast<std::int64_t>(now_ms / 1000);
  const std::int64_t exp_s = now_s + 3600;
  const std::string token = sign_hs256(config_.secret, {{"sub", *user}, {"iat", now_s}, {"exp", exp_s}});
  nlohmann::json body = {{"token", token}, {"userId", *user}, {"expiresAt", exp_s * 1000}};
  HttpReply r = reply(200, body.dump());
  r.headers.emplace_back("Cache-Control", "no-store");
  // A development convenience: a web dev server on another port may fetch tokens from here.
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  return r;
}

}  // namespace tidewire::server

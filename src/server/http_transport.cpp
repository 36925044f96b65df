#include "server/http_transport.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "protocol/envelope.hpp"
#include "protocol/wire.hpp"
#include "server/log.hpp"

namespace tidewire::server {

namespace ht = wire::http_transport;
namespace hterr = wire::http_transport::error;

namespace {

HttpReply error_reply(unsigned status, std::string_view code, std::string_view message) {
  HttpReply r;
  r.status = status;
  r.body = json_error_body(code, message);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpTransportResult respond(HttpReply reply) {
  HttpTransportResult r;
  r.reply = std::move(reply);
  return r;
}

bool has_param(std::string_view query, std::string_view key);

// The `ack` parameter: absent = 0; nullopt when not a decimal number.
std::optional<std::uint64_t> ack_param(std::string_view query) {
  if (!has_param(query, ht::kAckParam)) return 0;
  const auto value = query_param(query, ht::kAckParam);
  if (!value || value->empty() || value->size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : *value) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

bool has_param(std::string_view query, std::string_view key) {
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    if (pair.substr(0, pair.find('=')) == key) return true;
    start = end + 1;
  }
  return false;
}

// The token of an `Authorization: Bearer <token>` header ("" when it is not one).
std::string_view bearer_token(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  if (header.size() < 7) return {};
  static constexpr std::string_view kBearer = "bearer ";
  for (std::size_t i = 0; i < kBearer.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kBearer[i]) return {};
  }
  header.remove_prefix(kBearer.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  return header;
}

// A binary frame (section 13: its first byte is 0x01) rather than a JSON message.
bool is_binary_frame(const SharedFrame& frame) {
  return !frame->empty() && static_cast<unsigned char>((*frame)[0]) == 0x01;
}

// Standard base64 (RFC 4648 section 4, with padding, no line breaks): what atob() and Buffer read.
void append_base64(std::string& out, std::string_view bytes) {
  const std::size_t at = out.size();
  out.resize(at + 4 * ((bytes.size() + 2) / 3) + 1);  // EVP_EncodeBlock writes a terminating NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[at]),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(at + static_cast<std::size_t>(n));
}

// The media type of a Content-Type header (before any parameter), compared case-insensitively.
bool media_type_is(std::string_view header, std::string_view type) {
  header = header.substr(0, header.find(';'));
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  if (header.size() != type.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != type[i]) return false;
  }
  return true;
}

std::string close_json(const HttpStreamSession::CloseInfo& close) {
  nlohmann::json j = {{"code", close.code}, {"reason", close.reason}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

HttpTransport::HttpTransport(const Config& config, MessageHandler& handler, const JwtVerifier& verifier,
                             SessionRegistry& registry, Clock clock)
    : config_(config),
      handler_(handler),
      verifier_(verifier),
      registry_(registry),
      clock_(std::move(clock)),
      sse_path_(config.path + std::string(ht::kSsePath)),
      poll_path_(config.path + std::string(ht::kPollPath)),
      send_path_(config.path + std::string(ht::kSendPath)) {}

bool HttpTransport::handles(std::string_view target) const {
  const std::string_view path = target.substr(0, target.find('?'));
  return path == sse_path_ || path == poll_path_ || path == send_path_;
}

HttpTransportResult HttpTransport::handle(const HttpTransportRequest& request, boost::asio::io_context& ioc) {
  const std::size_t q = request.target.find('?');
  const std::string_view path = request.target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
  const bool is_send = path == send_path_;
  const bool is_stream = path == sse_path_;

  const std::string_view allowed = is_send ? "POST" : "GET";
  const bool origin_allowed =
      request.has_origin && (config_.allowed_origins.empty() ||
                             std::find(config_.allowed_origins.begin(), config_.allowed_origins.end(),
                                       request.origin) != config_.allowed_origins.end());
  // A page of another origin may use the transports (its token is in a header, not a cookie): CORS.
  const auto with_cors = [&](HttpTransportResult r) {
    if (!origin_allowed) return r;
    r.reply.headers.emplace_back("Access-Control-Allow-Origin", std::string(request.origin));
    r.reply.headers.emplace_back("Vary", "Origin");
    return r;
  };
  if (request.method == "OPTIONS" && origin_allowed) {  // the preflight of a request with Authorization
    HttpReply r;
    r.status = 204;
    r.headers.emplace_back("Access-Control-Allow-Methods", std::string(allowed));
    r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
    return with_cors(respond(std::move(r)));
  }
  return with_cors(handle_checked(request, path, query, is_send, is_stream, allowed, ioc));
}

HttpTransportResult HttpTransport::handle_checked(const HttpTransportRequest& request, std::string_view path,
                                                  std::string_view query, bool is_send, bool is_stream,
                                                  std::string_view allowed, boost::asio::io_context& ioc) {
  if (request.method != allowed) {
    HttpReply r = error_reply(405, hterr::kMethodNotAllowed,
                              std::string(path) + " only accepts " + std::string(allowed));
    r.headers.emplace_back("Allow", std::string(allowed));
    return respond(std::move(r));
  }
  if (!config_.allowed_origins.empty() && request.has_origin) {
    const auto& list = config_.allowed_origins;
    if (std::find(list.begin(), list.end(), request.origin) == list.end())
      return respond(error_reply(403, hterr::kForbiddenOrigin, "this Origin may not use this server"));
  }
  if (has_param(query, "token") || has_param(query, "access_token") || has_param(query, "jwt"))
    return respond(error_reply(400, hterr::kTokenInUrl,
                               "tokens go in the Authorization: Bearer header, never in the URL (URLs end up in "
                               "proxy and server logs)"));
  const std::string_view token = bearer_token(request.authorization);
  if (token.empty()) {
    Metrics::add(handler_.metrics().auth_failures);
    return respond(error_reply(401, hterr::kAuthRequired, "send the token in an Authorization: Bearer header"));
  }
  JwtResult verified = verifier_.verify(token, static_cast<std::int64_t>(clock_() / 1000));
  if (!verified.ok()) {
    Metrics::add(handler_.metrics().auth_failures);
    return respond(error_reply(401, verified.status == JwtStatus::kExpired ? hterr::kTokenExpired : hterr::kAuthFailed,
                               verified.reason));
  }
  if (is_send) return send(request, query, verified.claims);
  return open_or_resume(request, query, is_stream, verified.claims, ioc);
}

std::shared_ptr<HttpStreamSession> HttpTransport::find(std::string_view query, const JwtClaims& claims,
                                                       HttpReply& error) const {
  const auto id = query_param(query, ht::kSessionParam);
  std::shared_ptr<HttpStreamSession> session;
  if (id) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = sessions_.find(*id); it != sessions_.end()) session = it->second;
  }
  if (!session || session->finished()) {
    error = error_reply(404, hterr::kUnknownSession,
                        "no such session (it ended or timed out): open a new one and resubscribe with recovery");
    return nullptr;
  }
  if (session->user_id() != claims.sub) {
    Metrics::add(handler_.metrics().auth_failures);
    error = error_reply(403, hterr::kSessionForbidden, "this session belongs to another user");
    return nullptr;
  }
  return session;
}

HttpTransportResult HttpTransport::open_or_resume(const HttpTransportRequest&, std::string_view query, bool stream,
                                                  const JwtClaims& claims, boost::asio::io_context& ioc) {
  HttpTransportResult result;
  result.kind = stream ? HttpTransportResult::Kind::kStream : HttpTransportResult::Kind::kPoll;
  if (!has_param(query, ht::kSessionParam)) {
    HttpStreamSession::Options options;
    options.max_queued_bytes = config_.max_queued_bytes;
    options.max_queued_messages = config_.max_queued_messages;
    auto session = std::make_shared<HttpStreamSession>(make_session_id(), handler_, ioc, options,
                                                       [this](HttpStreamSession& finished) {
                                                         registry_.remove(&finished);
                                                         std::lock_guard<std::mutex> lock(mutex_);
                                                         sessions_.erase(finished.id());
                                                       });
    {
      std::lock_guard<std::mutex> lock(mutex_);
      sessions_.emplace(session->id(), session);
    }
    registry_.add(session);
    session->open(claims);  // auth_success, or a 4005 close the client reads from its first stream or poll
    result.reply.headers.emplace_back(std::string(ht::kSessionHeader), session->id());
    result.session = std::move(session);
    return result;
  }
  HttpReply error;
  result.session = find(query, claims, error);
  if (!result.session) return respond(std::move(error));
  const auto ack = ack_param(query);
  if (!ack || *ack > result.session->sent_seq())
    return respond(error_reply(400, hterr::kBadAck, "ack must be a sequence number this session has sent"));
  result.ack = *ack;
  // On a resume too: a load balancer that lost its entry for the session (restarted) learns it again.
  result.reply.headers.emplace_back(std::string(ht::kSessionHeader), result.session->id());
  return result;
}

HttpTransportResult HttpTransport::send(const HttpTransportRequest& request, std::string_view query,
                                        const JwtClaims& claims) {
  HttpReply error;
  const std::shared_ptr<HttpStreamSession> session = find(query, claims, error);
  if (!session) return respond(std::move(error));
  if (has_param(query, ht::kAckParam)) {
    const auto ack = ack_param(query);
    if (!ack || !session->acknowledge(*ack))
      return respond(error_reply(400, hterr::kBadAck, "ack must be a sequence number this session has sent"));
  }
  if (request.body.size() > handler_.limits().max_message_bytes)
    return respond(error_reply(413, hterr::kMessageTooLarge,
                               "the body is larger than limits.maxMessageBytes (" +
                                   std::to_string(handler_.limits().max_message_bytes) + " bytes); send less at once"));
  if (media_type_is(request.content_type, ht::kBinaryContentType)) {
    // One binary frame (section 13), handled as a binary WebSocket frame: its errors and acks come on the stream.
    session->on_binary(request.body);
  } else {
    // Every line must be JSON before any is handled, so a bad body is refused as a whole with a status.
    bool bad = false;
    protocol::for_each_message(request.body, [&](std::string_view text) {
      if (!bad && !nlohmann::json::accept(text)) bad = true;
    });
    if (bad)
      return respond(error_reply(400, hterr::kBadJson,
                                 "every non-empty line of the body must be one JSON message; nothing was handled"));
    session->on_text(request.body);
  }
  // The client is done with the session (it closed its "socket"): end it now rather than after the timeout,
  // which would hold one of the user's connection slots meanwhile.
  if (has_param(query, "close")) session->finish();
  HttpReply ok;
  ok.status = 204;
  ok.headers.emplace_back("Cache-Control", "no-store");
  return respond(std::move(ok));
}

void HttpTransport::sweep() {
  const std::uint64_t now = clock_();
  std::vector<std::shared_ptr<HttpStreamSession>> expired;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [id, session] : sessions_)
      if (session->idle_longer_than(now, config_.http_session_timeout_ms)) expired.push_back(session);
  }
  for (const auto& session : expired) session->finish();  // removes it from the table
}

std::size_t HttpTransport::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_.size();
}

std::string HttpTransport::sse_open_event(const std::string& session_id, std::uint64_t ack) {
  nlohmann::json j = {{"session", session_id}, {"ack", ack}};
  return "event: open\ndata: " + j.dump() + "\n\n";
}

std::string HttpTransport::sse_events(const HttpStreamSession::Batch& batch) {
  std::string out;
  // The batch's messages have consecutive sequence numbers ending at last_seq. A run of JSON messages is one
  // event (its data exactly a WebSocket text frame's batch); a binary frame is an event of its own.
  std::uint64_t seq = batch.last_seq + 1 - batch.messages.size();
  const auto& ms = batch.messages;
  for (std::size_t i = 0; i < ms.size();) {
    if (is_binary_frame(ms[i])) {
      out += "event: ";
      out += ht::kSseBinaryEvent;
      out += "\nid: ";
      out += std::to_string(seq);
      out += "\ndata: ";
      append_base64(out, *ms[i]);
      out += "\n\n";
      ++i;
      ++seq;
      continue;
    }
    std::size_t end = i;
    while (end < ms.size() && !is_binary_frame(ms[end])) ++end;
    out += "id: ";
    out += std::to_string(seq + (end - i) - 1);
    out += '\n';
    for (; i < end; ++i, ++seq) {
      out += "data: ";
      out += *ms[i];
      out += '\n';
    }
    out += '\n';
  }
  if (batch.close) out += "event: close\ndata: " + close_json(*batch.close) + "\n\n";
  return out;
}

std::string HttpTransport::poll_body(const std::string& session_id, const HttpStreamSession::Batch& batch) {
  // NDJSON: a header line, then the messages exactly as a WebSocket batch carries them (a client hands the rest
  // of the body to its parser as it is, with no JSON array to take apart).
  nlohmann::json head = {{"session", session_id}, {"ack", batch.last_seq}};
  if (batch.close) head["close"] = {{"code", batch.close->code}, {"reason", batch.close->reason}};
  std::string out = head.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (const SharedFrame& m : batch.messages) {
    out += '\n';
    if (is_binary_frame(m)) {
      out += ht::kPollBinaryPrefix;  // a JSON message's line starts with '{'
      append_base64(out, *m);
    } else {
      out += *m;
    }
  }
  return out;
}

}  // namespace tidewire::server

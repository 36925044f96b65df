// The HTTP transports beside the WebSocket (docs/PROTOCOL.md "HTTP transports"), without Beast: which requests
// are theirs, their checks (auth, session ownership, methods, sizes, JSON), the table of live sessions, and the
// bytes of their responses. transport.cpp turns a request into HttpTransportRequest, calls handle(), and either
// answers with the reply or keeps the connection as the session's waiter (an SSE stream or a pending poll).
//
//   GET  <path>/sse?session=ID&ack=N    text/event-stream; no session: opens one (first event `open`)
//   GET  <path>/poll?session=ID&ack=N   NDJSON: {"session","ack","close"?}, then the messages; at once or after a wait
//   POST <path>/send?session=ID&ack=N   the body: '\n'-separated protocol messages, or with Content-Type
//                                       application/octet-stream one binary frame; 204 (&close=1: then end it)
//
// Every request carries `Authorization: Bearer <jwt>` (never a token in the URL); a session belongs to the user
// of the token that opened it, and a request with another user's token is refused (403 session_forbidden).
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "server/config.hpp"
#include "server/http_router.hpp"
#include "server/http_stream_session.hpp"
#include "server/jwt_verifier.hpp"
#include "server/message_handler.hpp"
#include "server/session_registry.hpp"

namespace tidewire::server {

struct HttpTransportRequest {
  std::string_view method;
  std::string_view target;         // "/ws/poll?session=...&ack=3"
  std::string_view authorization;  // the Authorization header ("" when absent)
  std::string_view content_type;   // the Content-Type header ("" when absent)
  bool has_origin = false;
  std::string_view origin;
  std::string_view body;
};

struct HttpTransportResult {
  enum class Kind { kRespond, kStream, kPoll };
  Kind kind = Kind::kRespond;
  HttpReply reply;                              // kRespond; for kStream and kPoll, only its headers (CORS)
  std::shared_ptr<HttpStreamSession> session;   // kStream, kPoll
  std::uint64_t ack = 0;                        // kStream, kPoll: what the client acknowledged
};

class HttpTransport {
 public:
  using Clock = std::function<std::uint64_t()>;  // ms since the epoch

  // References must outlive the transport.
  HttpTransport(const Config& config, MessageHandler& handler, const JwtVerifier& verifier,
                SessionRegistry& registry, Clock clock);

  // True when `target`'s path is one of the HTTP transport endpoints.
  bool handles(std::string_view target) const;
  // `ioc`: the I/O thread of the request (a new session's timers run there).
  HttpTransportResult handle(const HttpTransportRequest& request, boost::asio::io_context& ioc);
  // Ends the sessions without a stream or poll for longer than --http-session-timeout-ms.
  void sweep();
  std::size_t size() const;

  // The first SSE event of a stream: `event: open` with the session id and the acknowledged sequence number.
  static std::string sse_open_event(const std::string& session_id, std::uint64_t ack);
  // One SSE event per run of JSON messages (`id:` the run's last sequence number, one `data:` line per message);
  // a binary frame is an event of its own (`event: binary`, `id:` its sequence number, `data:` it in base64);
  // then `event: close`.
  static std::string sse_events(const HttpStreamSession::Batch& batch);
  // A poll response's body (application/x-ndjson): the header line, then one line per message (a binary frame:
  // "b:" and the frame in base64).
  static std::string poll_body(const std::string& session_id, const HttpStreamSession::Batch& batch);
  // The SSE comment that keeps an idle stream alive through proxies.
  static constexpr std::string_view kSseHeartbeat = ": hb\n\n";

 private:
  // handle() after the CORS preflight: methods, origin, token, then the endpoint.
  HttpTransportResult handle_checked(const HttpTransportRequest& request, std::string_view path, std::string_view query,
                                     bool is_send, bool is_stream, std::string_view allowed,
                                     boost::asio::io_context& ioc);
  HttpTransportResult open_or_resume(const HttpTransportRequest& request, std::string_view query, bool stream,
                                     const JwtClaims& claims, boost::asio::io_context& ioc);
  HttpTransportResult send(const HttpTransportRequest& request, std::string_view query, const JwtClaims& claims);
  // The session named in `query` for `claims`' user, or an error reply (404, 403).
  std::shared_ptr<HttpStreamSession> find(std::string_view query, const JwtClaims& claims, HttpReply& error) const;

  const Config& config_;
  MessageHandler& handler_;
  const JwtVerifier& verifier_;
  SessionRegistry& registry_;
  Clock clock_;
  std::string sse_path_, poll_path_, send_path_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<HttpStreamSession>, std::less<>> sessions_;
};

}  // namespace tidewire::server

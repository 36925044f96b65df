// The one translation unit that includes Boost.Beast (about a minute to compile here): the listener, the HTTP
// sessions and the WebSocket sessions, in the shape of Beast's websocket "chat-multi" example. Protocol decisions
// live in the Beast-free core (HttpRouter, MessageHandler, Hub, OutboundQueue); this file only moves bytes. The
// wiring, the periodic tasks and the shutdown are run_server's (server.cpp, Asio only).
//
// Threading: one io_context per I/O thread (--threads), each run by that thread alone (io_thread.hpp). The
// listener accepts on the first I/O thread and places each socket on the next I/O thread in turn; from then on
// every handler of that connection (HTTP reads, the WebSocket session's reads, writes, timers, flushes) runs on
// that thread, one at a time, so a session needs no strand and no lock for its own state. Three things reach a
// session from other threads: the hub's fan-out (send()/deliver() append to its thread-safe OutboundQueue and
// list it on its thread's FlushTick, which is thread-safe too), and close(), stop() and arm_expiry_timer(), which
// post onto its io_context. Every completion handler runs inside guard(): an exception closes that one session
// (1011 when the WebSocket is open) and is logged, never std::terminate.
#include <boost/asio/compose.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "server/transport.hpp"

#include "server/flush_tick.hpp"
#include "server/guard.hpp"
#include "server/http_router.hpp"
#include "server/http_transport.hpp"
#include "server/log.hpp"
#include "server/message_handler.hpp"
#include "server/outbound_queue.hpp"
#include "server/random_id.hpp"
#include "server/server_state.hpp"
#include "server/session_registry.hpp"

namespace tidewire::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string_view sv(beast::string_view s) { return std::string_view(s.data(), s.size()); }

// The parser's verdicts on a request that is not valid HTTP/1.1 (as opposed to one cut short or too large).
bool is_malformed_request(const beast::error_code& ec) {
  for (const http::error e : {http::error::bad_line_ending, http::error::bad_method, http::error::bad_target,
                              http::error::bad_version, http::error::bad_field, http::error::bad_value,
                              http::error::bad_content_length, http::error::bad_transfer_encoding,
                              http::error::bad_chunk, http::error::bad_chunk_extension, http::error::bad_obs_fold,
                              http::error::multiple_content_length})
    if (ec == e) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Lingering close. A server that closes its socket while the peer is still writing (the rest of an oversized
// frame, headers past the limit, frames sent before the peer saw our close) has unread bytes in its receive
// buffer, so the kernel answers with a reset, and the reset makes the peer drop what it had not read yet: the
// close frame (the client saw 1006 instead of 1009) or the HTTP error response. So every close the server starts
// sends what it has to say, shuts down its sending side (FIN), then reads and discards until the peer's EOF or
// kLingerTimeout, and only then closes.
//
// Beast's own TCP teardown means to do this, but in Boost 1.81 it stops after the first read that returns data
// (it tests a bytes_transferred it never assigns), which is exactly the case of a peer still writing.
constexpr std::chrono::seconds kLingerTimeout{2};

// The composed operation behind async_linger().
class LingerOp {
 public:
  explicit LingerOp(beast::tcp_stream& stream) : stream_(stream), buffer_(new char[kBufferSize]) {}

  template <typename Self>
  void operator()(Self& self, beast::error_code ec = {}, std::size_t = 0) {
    if (!started_) {
      started_ = true;
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.expires_after(kLingerTimeout);  // a timeout ends the read with beast::error::timeout
    } else if (ec) {
      stream_.expires_never();
      beast::error_code ignored;
      stream_.socket().close(ignored);
      if (ec == net::error::eof || ec == beast::error::timeout) ec = {};
      return self.complete(ec);
    }
    stream_.async_read_some(net::buffer(buffer_.get(), kBufferSize), std::move(self));
  }

 private:
  static constexpr std::size_t kBufferSize = 16 * 1024;
  beast::tcp_stream& stream_;
  std::unique_ptr<char[]> buffer_;
  bool started_ = false;
};

// Shuts down the sending side of `stream`, then reads and discards until EOF, an error or kLingerTimeout, then
// closes the socket and calls `handler(error_code)` (no error for EOF or the deadline).
template <typename Handler>
auto async_linger(beast::tcp_stream& stream, Handler&& handler) {
  return net::async_compose<Handler, void(beast::error_code)>(LingerOp(stream), handler, stream);
}

// The WebSocket sessions' stream: a tcp_stream whose teardown (the end of every WebSocket close, whoever
// started it and whatever the code: 1009 from Beast's read limit, 1007, the server's own 4xxx closes) lingers.
class LingeringStream : public beast::tcp_stream {
 public:
  using Base = beast::tcp_stream;
  using Base::Base;
};

// Found by argument-dependent lookup from Beast's close and failure paths; an exact match for LingeringStream,
// so it is preferred over Beast's template for basic_stream.
template <typename TeardownHandler>
void async_teardown(beast::role_type, LingeringStream& stream, TeardownHandler&& handler) {
  async_linger(stream, std::forward<TeardownHandler>(handler));
}

// ---------------------------------------------------------------------------------------------------------------
// websocket_session: one upgraded connection. Reads frames into the MessageHandler; writes the OutboundQueue
// one batch (one frame) at a time.
class WebsocketSession : public SessionSink,
                         public Stoppable,
                         public Flushable,
                         public std::enable_shared_from_this<WebsocketSession> {
 public:
  // `tick`: its I/O thread's flush tick.
  WebsocketSession(tcp::socket&& socket, std::shared_ptr<ServerState> state, RouteResult route, FlushTick& tick)
      : ws_(std::move(socket)),
        state_(std::move(state)),
        queue_(state_->config.max_queued_bytes, state_->config.max_queued_messages),
        auth_timer_(ws_.get_executor()),
        expiry_timer_(ws_.get_executor()),
        tick_(tick),
        route_(std::move(route)) {}

  ~WebsocketSession() override { state_->registry.remove(this); }

  void run(http::request<http::string_body> req) {
    state_->registry.add(shared_from_this());
    const Config& c = state_->config;
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = std::chrono::seconds(10);  // also bounds the closing handshake
    // Beast pings after idle_timeout/2 without traffic and drops the peer after idle_timeout.
    timeout.idle_timeout = std::chrono::milliseconds(2ull * c.heartbeat_ms);
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.read_message_max(c.max_message_bytes);  // bigger: Beast closes with 1009
    // One batch, one frame, one write: Beast's default auto-fragmentation would split every batch into 4 KB
    // frames and write each separately (a server sends unmasked, so nothing needs its write buffer).
    ws_.auto_fragment(false);
    const bool echo_jwt = route_.echo_jwt;
    ws_.set_option(websocket::stream_base::decorator([echo_jwt](websocket::response_type& res) {
      res.set(http::field::server, "tidewire-server");
      if (echo_jwt) res.set(http::field::sec_websocket_protocol, std::string(wire::kJwtSubprotocol));
    }));
    ws_.async_accept(req, beast::bind_front_handler(&WebsocketSession::on_accept, shared_from_this()));
  }

  // SessionSink (any thread)
  void send(std::string message) override { enqueue(std::make_shared<const std::string>(std::move(message))); }
  void deliver(const SharedFrame& message) override {
    Metrics::add(state_->handler.metrics().deliveries);
    enqueue(message);
  }
  // The token's exp: the handler decides at that time (a refresh may have moved it).
  void arm_expiry_timer(std::uint64_t at_ms) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), at_ms] {
      self->safely("arm_expiry", [&] {
        const std::uint64_t now = wall_clock_ms();
        // Capped so a far exp cannot overflow the steady clock; the handler re-arms.
        const std::uint64_t wait = std::min<std::uint64_t>(at_ms > now ? at_ms - now : 0, 24ull * 3600 * 1000);
        self->expiry_timer_.expires_after(std::chrono::milliseconds(wait));
        self->expiry_timer_.async_wait([self](beast::error_code ec) {
          if (ec) return;
          self->safely("on_expiry_timer", [&] { self->state_->handler.on_expiry_timer(self->conn_, *self); });
        });
      });
    });
  }
  std::shared_ptr<Subscriber> subscriber() override { return shared_from_this(); }
  void post(std::function<void()> fn) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), fn = std::move(fn)] { self->safely("posted", fn); });
  }

  // Flushable (the flush tick, on this session's I/O thread)
  void flush() noexcept override {
    safely("flush", [&] { do_write(); });
  }
  void close(std::uint16_t code, std::string reason) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
      self->safely("close", [&] { self->request_close(code, std::move(reason)); });
    });
  }

  // Stoppable (any thread): server shutdown.
  void stop() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->safely("stop", [&] {
        if (!self->accepted_) return self->abort();
        // The retry hint of PROTOCOL.md section 5: clients wait at least this long before reconnecting.
        self->request_close(wire::close_code::kGoingAway, "server shutting down; retry_after_ms=2000");
      });
    });
  }

 private:
  template <typename Fn>
  void safely(const char* where, Fn&& fn) {
    guard(where, std::forward<Fn>(fn), [this] { fail_internal(); });
  }

  // After an unexpected exception: close with 1011 if still possible, else drop the socket.
  void fail_internal() noexcept {
    guard("fail_internal", [this] {
      queue_.close();
      if (accepted_ && !closing_) return do_close(wire::close_code::kInternalError, "internal error");
      abort();
    }, [this] { abort(); });
  }

  void abort() noexcept {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }

  void on_accept(beast::error_code ec) {
    safely("on_accept", [&] {
      if (ec) {
        log(LogLevel::kDebug, "msg=\"websocket accept failed\" error=", log_quoted(ec.message()));
        return;
      }
      accepted_ = true;
      conn_.connection_id = make_connection_id();
      log(LogLevel::kDebug, "msg=open conn=", conn_.connection_id, " user=", log_quoted(route_.preauth_user),
          " binary=", route_.binary ? 1 : 0, " compact=", route_.compact ? 1 : 0);
      state_->handler.on_open(conn_, *this, route_.preauth_user.empty() ? nullptr : &route_.preauth_claims);
      opened_ = true;
      if (!conn_.authenticated) {
        auth_timer_.expires_after(std::chrono::milliseconds(state_->config.auth_timeout_ms));
        auth_timer_.async_wait(beast::bind_front_handler(&WebsocketSession::on_auth_timer, shared_from_this()));
      }
      do_read();
    });
  }

  void on_auth_timer(beast::error_code ec) {
    if (ec) return;  // cancelled
    safely("on_auth_timer", [&] { state_->handler.on_auth_timeout(conn_, *this); });
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WebsocketSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return on_end(ec);
    tick_.note_read();  // a tick due without a write delay waits for the rest of a burst
    safely("on_read", [&] {
      const auto data = buffer_.cdata();
      if (ws_.got_text()) {
        state_->handler.on_text(conn_, *this,
                                std::string_view(static_cast<const char*>(data.data()), data.size()));
      } else {
        state_->handler.on_binary(conn_, *this,
                                  std::string_view(static_cast<const char*>(data.data()), data.size()));
      }
    });
    buffer_.consume(buffer_.size());
    safely("do_read", [&] { do_read(); });  // keep reading even while closing: the peer's close frame arrives here
  }

  // The read loop ended: the connection is over, whatever the reason.
  void on_end(beast::error_code ec) {
    guard("on_end", [&] {
      if (ec != websocket::error::closed && ec != net::error::operation_aborted && ec != net::error::eof)
        log(LogLevel::kDebug, "msg=ended conn=", conn_.connection_id, " error=", log_quoted(ec.message()));
      else
        log(LogLevel::kDebug, "msg=closed conn=", conn_.connection_id, " user=", log_quoted(conn_.user_id));
      auth_timer_.cancel();
      expiry_timer_.cancel();
      queue_.close();  // a tick that still lists this session finds nothing to write
    }, [this] { abort(); });
    if (opened_) guard("on_close", [&] { state_->handler.on_close(conn_, *this); });
    opened_ = false;
  }

  // ---- writing: one async_write in flight; each write sends every queued message as one frame.
  void enqueue(const SharedFrame& message) {
    Metrics& m = state_->handler.metrics();
    Metrics::add(m.messages_out);
    switch (queue_.push(message)) {
      case OutboundQueue::Push::kStartWrite:
        // The next tick of this session's I/O thread starts the write: after the write delay, or without one
        // at the end of the thread's burst of reads, so everything the burst queues for this session leaves in
        // one frame. Not written here: enqueue() may run on another connection's thread, and a session's stream
        // is only touched on its own I/O thread (add() is thread-safe).
        tick_.add(weak_from_this());
        break;
      case OutboundQueue::Push::kOverflow:
        Metrics::add(m.drops);
        Metrics::add(m.slow_consumer_closes);
        log(LogLevel::kWarn, "msg=\"slow consumer: closing with 1013\" conn=", conn_.connection_id);
        close(wire::close_code::kTryAgainLater, "slow consumer");
        break;
      case OutboundQueue::Push::kClosed: Metrics::add(m.drops); break;
      default: break;
    }
  }

  // Idempotent: several callers (a posted start, a tick, a close request, a write completion) may ask for a write.
  void do_write() {
    if (write_in_flight_ || closing_) return;
    bool binary = false;
    if (!queue_.take_batch(write_buffer_, binary, route_.compact)) {
      if (pending_close_) do_close(pending_close_->first, pending_close_->second);
      return;
    }
    // Nothing leaves before the history it reports is in the store: this batch may hold the ack of a publish or
    // its broadcast (PROTOCOL.md section 9). One commit covers every write the store batched so far; the other
    // sessions flushed in the same tick find nothing pending.
    if (state_->history_store) state_->history_store->sync();
    write_in_flight_ = true;
    // 0x00: a JSON batch (a compact batch starts with its own 0x02)
    if (!binary && route_.binary && !route_.compact) write_buffer_.insert(write_buffer_.begin(), '\0');
    ws_.text(!binary && !route_.binary);
    ws_.async_write(net::buffer(write_buffer_),
                    beast::bind_front_handler(&WebsocketSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    write_in_flight_ = false;
    if (ec) {
      queue_.close();  // the read side sees the failure too and ends the session
      return;
    }
    safely("on_write", [&] {
      // What was queued during this write waits for the next tick and joins a full batch. Without this, each
      // message queued while a write was in flight would leave in a frame of its own (with TCP_NODELAY, writes
      // complete at once, so batches would stay at one or two messages). The queue is still marked writing, so
      // no push lists this session meanwhile: it is listed exactly once.
      if (!pending_close_ && queue_.size() > 0) return tick_.add(weak_from_this());
      do_write();
    });
  }

  // Flush what is queued, then close (do_write calls do_close once the queue is empty).
  void request_close(std::uint16_t code, std::string reason) {
    if (closing_ || pending_close_ || !accepted_) return;
    pending_close_.emplace(code, std::move(reason));
    do_write();
  }

  void do_close(std::uint16_t code, const std::string& reason) {
    if (closing_) return;
    closing_ = true;
    auth_timer_.cancel();
    expiry_timer_.cancel();
    queue_.close();
    websocket::close_reason cr(static_cast<websocket::close_code>(code));
    cr.reason.assign(reason.data(), std::min<std::size_t>(reason.size(), 123));
    ws_.async_close(cr, [self = shared_from_this()](beast::error_code) {});
  }

  websocket::stream<LingeringStream> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ServerState> state_;
  OutboundQueue queue_;
  net::steady_timer auth_timer_;
  net::steady_timer expiry_timer_;
  FlushTick& tick_;  // outlives every session (run_server)
  RouteResult route_;
  // Touched on this session's I/O thread only.
  ConnectionProtocolState conn_;
  std::string write_buffer_;
  bool accepted_ = false;
  bool opened_ = false;  // on_open ran: on_close must run once
  bool write_in_flight_ = false;
  bool closing_ = false;  // the close frame is on its way
  std::optional<std::pair<std::uint16_t, std::string>> pending_close_;
};

// ---------------------------------------------------------------------------------------------------------------
// http_session: reads requests, answers them through HttpRouter, or hands the socket to a WebsocketSession.
// For the HTTP transports (http_transport.hpp) it is also the waiter of an HttpStreamSession: it keeps the
// connection open as an SSE stream (chunked text/event-stream, one event per batch) or as a pending long poll,
// and is listed on its I/O thread's FlushTick when the session has messages (flush() takes and writes them).
class HttpSession : public Stoppable, public Flushable, public std::enable_shared_from_this<HttpSession> {
 public:
  // PROTOCOL.md section 14. The header limit leaves room for a token in Sec-WebSocket-Protocol; past it: 431.
  static constexpr std::uint32_t kHeaderLimit = 16 * 1024;
  static constexpr std::uint64_t kBodyLimit = 64 * 1024;  // past it: 413
  // A whole request (headers and body) must arrive within this, counted from the accept or the end of the
  // previous response; an idle keep-alive connection is closed when it runs out.
  static constexpr std::chrono::seconds kRequestDeadline{30};

  HttpSession(tcp::socket&& socket, std::shared_ptr<ServerState> state, FlushTick& tick)
      : stream_(std::move(socket)),
        state_(std::move(state)),
        tick_(tick),
        request_timer_(stream_.get_executor()),
        wait_timer_(stream_.get_executor()) {}

  ~HttpSession() override { state_->registry.remove(this); }

  void run() {
    state_->registry.add(shared_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      guard("http do_read", [&] { self->do_read(); }, [&] { self->stream_.close(); });
    });
  }

  void stop() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      // A stream or a poll ends through its HttpStreamSession, which the shutdown closes with 1001 too.
      if (self->mode_ != Mode::kIdle) return;
      guard("http stop", [&] { self->stream_.close(); });
    });
  }

  // Flushable: the HttpStreamSession this connection waits on has something (the tick, on this I/O thread).
  void flush() noexcept override {
    guard("http flush", [&] { pump(); }, [this] { end_waiting(); });
  }

 private:
  enum class Mode { kIdle, kStream, kPoll };

  void do_read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // A POST to the HTTP transport's send endpoint may carry a whole WebSocket-sized message.
    parser_->body_limit(std::max<std::uint64_t>(kBodyLimit, state_->config.max_message_bytes));
    // The request deadline is a timer of our own, not the stream's: the stream's timeout closes the socket,
    // which leaves no way to answer a half-sent request with 408.
    stream_.expires_never();
    timed_out_ = false;
    request_timer_.expires_after(std::chrono::milliseconds(state_->config.http_request_timeout_ms));
    request_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    request_timer_.cancel();
    if (ec == http::error::end_of_stream) return stream_.close();
    if (ec && timed_out_) {
      // Part of a request came, the rest did not in time (a slow body or slow headers): say so. An idle
      // keep-alive connection just closes.
      if (parser_->got_some() || buffer_.size() > 0)
        return refuse(408, "request_timeout", "the request did not arrive in time; send it whole within " +
                                                  std::to_string(state_->config.http_request_timeout_ms) + " ms");
      return stream_.close();
    }
    if (ec) {
      if (ec != net::error::operation_aborted) log(LogLevel::kDebug, "msg=\"http read failed\" error=", log_quoted(ec.message()));
      // A request the parser refused gets a status that says why (then a lingering close: the client may still
      // be sending it). A timeout, a reset or a half-sent request just ends the connection.
      if (ec == http::error::header_limit)
        return refuse(431, "headers_too_large",
                      "the request headers are larger than 16 KiB; send a shorter token (first-message auth "
                      "carries it in the WebSocket instead) or fewer cookies");
      if (ec == http::error::body_limit)
        return refuse(413, "body_too_large", "the request body is larger than 64 KiB");
      if (is_malformed_request(ec))
        return refuse(400, "bad_request", "the request is not valid HTTP/1.1: " + ec.message());
      return stream_.close();
    }
    guard("http on_read", [&] { handle_request(); }, [this] { stream_.close(); });
  }

  // Answers a request the parser refused, then closes (lingering).
  void refuse(unsigned status, std::string_view code, std::string_view message) {
    guard("http refuse", [&] {
      auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
      res->set(http::field::server, "tidewire-server");
      res->set(http::field::content_type, "application/json");
      res->body() = json_error_body(code, message);
      res->keep_alive(false);
      res->prepare_payload();
      log(LogLevel::kDebug, "msg=\"http request refused\" status=", status);
      stream_.expires_after(kRequestDeadline);
      http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code e, std::size_t) {
        self->on_write(e, false);
      });
    }, [this] { stream_.close(); });
  }

  void handle_request() {
    http::request<http::string_body> req = parser_->release();
    HttpRequestInfo info;
    info.method = sv(req.method_string());
    info.target = sv(req.target());
    info.websocket_upgrade = websocket::is_upgrade(req);
    const auto origin = req.find(http::field::origin);
    info.has_origin = origin != req.end();
    if (info.has_origin) info.origin = sv(origin->value());
    info.subprotocols = sv(req[http::field::sec_websocket_protocol]);

    if (state_->http_transport.handles(info.target)) return handle_transport_request(req, info);

    RouteResult route = state_->router.route(info);
    if (route.kind == RouteResult::Kind::kUpgrade) {
      stream_.expires_never();  // the WebSocket stream has its own timeouts
      std::make_shared<WebsocketSession>(stream_.release_socket(), state_, std::move(route), tick_)
          ->run(std::move(req));
      return;
    }

    HttpReply& r = route.reply;
    log(LogLevel::kDebug, "msg=http method=", info.method, " target=", log_quoted(info.target), " status=", r.status);
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), req.version());
    res->set(http::field::server, "tidewire-server");
    res->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res->set(name, value);
    // A refused upgrade ends the connection; plain requests may keep it alive.
    res->keep_alive(req.keep_alive() && !info.websocket_upgrade);
    if (req.method() == http::verb::head) {
      res->content_length(r.body.size());
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      self->on_write(ec, res->keep_alive());
    });
  }

  // ---- the HTTP transports (http_transport.hpp)
  void handle_transport_request(http::request<http::string_body>& req, const HttpRequestInfo& info) {
    HttpTransportRequest r;
    r.method = info.method;
    r.target = info.target;
    r.authorization = sv(req[http::field::authorization]);
    r.content_type = sv(req[http::field::content_type]);
    r.has_origin = info.has_origin;
    r.origin = info.origin;
    r.body = req.body();
    auto& ioc = static_cast<net::io_context&>(net::query(stream_.get_executor(), net::execution::context));
    HttpTransportResult result = state_->http_transport.handle(r, ioc);
    log(LogLevel::kDebug, "msg=http method=", info.method, " target=", log_quoted(info.target),
        " status=", result.kind == HttpTransportResult::Kind::kRespond ? result.reply.status : 200);
    switch (result.kind) {
      case HttpTransportResult::Kind::kRespond: return write_reply(result.reply, req.version(), req.keep_alive());
      case HttpTransportResult::Kind::kStream:
        extra_headers_ = std::move(result.reply.headers);
        return start_stream(std::move(result.session), result.ack);
      case HttpTransportResult::Kind::kPoll:
        extra_headers_ = std::move(result.reply.headers);
        return start_poll(std::move(result.session), result.ack, req.keep_alive());
    }
  }

  void write_reply(HttpReply& r, unsigned version, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
    res->set(http::field::server, "tidewire-server");
    if (r.status != 204) res->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(r.body);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      self->on_write(ec, res->keep_alive());
    });
  }

  // SSE: a chunked text/event-stream response that lasts until the session closes, another stream or poll takes
  // over, or the client goes away. The first event names the session.
  void start_stream(std::shared_ptr<HttpStreamSession> session, std::uint64_t ack) {
    mode_ = Mode::kStream;
    waiting_ = std::move(session);
    std::string head =
        "HTTP/1.1 200 OK\r\nServer: tidewire-server\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-cache, no-store\r\nX-Accel-Buffering: no\r\nConnection: keep-alive\r\n"
        "Transfer-Encoding: chunked\r\n";
    for (const auto& [name, value] : extra_headers_) head += name + ": " + value + "\r\n";
    head += "\r\n";
    append_chunk(head, HttpTransport::sse_open_event(waiting_->id(), ack));
    waiting_->attach(weak_from_this(), this, &tick_, ack);
    write_stream(std::move(head));
    arm_heartbeat();
    // Nothing more is expected from the client on this connection: a read that ends means it went away.
    stream_.socket().async_read_some(net::buffer(watch_buffer_), [self = shared_from_this()](beast::error_code, std::size_t) {
      guard("sse watch", [&] {
        if (self->mode_ == Mode::kStream && !self->ending_) self->end_waiting();
      });
    });
  }

  static void append_chunk(std::string& out, std::string_view data) {
    static constexpr char kHex[] = "0123456789abcdef";
    char size[17];
    int n = 0;
    for (std::size_t v = data.size(); v != 0 || n == 0; v >>= 4) size[n++] = kHex[v & 15];
    while (n > 0) out.push_back(size[--n]);
    out += "\r\n";
    out.append(data.data(), data.size());
    out += "\r\n";
  }

  void write_stream(std::string bytes) {
    write_in_flight_ = true;
    out_buffer_ = std::move(bytes);
    net::async_write(stream_.socket(), net::buffer(out_buffer_),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->write_in_flight_ = false;
                       guard("sse write", [&] {
                         if (ec) return self->end_waiting();
                         if (self->ending_) return self->end_waiting();
                         self->pump();
                       }, [&] { self->end_waiting(); });
                     });
  }

  void arm_heartbeat() {
    wait_timer_.expires_after(std::chrono::milliseconds(std::max<std::uint32_t>(state_->config.heartbeat_ms / 2, 100)));
    wait_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->mode_ != Mode::kStream || self->ending_) return;
      guard("sse heartbeat", [&] {
        if (self->write_in_flight_) {
          // A client that stopped reading (its window is full): after two beats of one write, give up on the
          // stream, so the session detaches (and times out, or is resumed) instead of holding it forever.
          if (++self->stalled_beats_ >= 2) return self->end_waiting();
        } else {
          self->stalled_beats_ = 0;
          std::string chunk;
          append_chunk(chunk, HttpTransport::kSseHeartbeat);
          self->write_stream(std::move(chunk));
        }
        self->arm_heartbeat();
      }, [&] { self->end_waiting(); });
    });
  }

  // Long poll: answered at once when the session has messages (or a close), else when one arrives, else empty
  // after --poll-timeout-ms. The connection then serves its next request (keep-alive).
  void start_poll(std::shared_ptr<HttpStreamSession> session, std::uint64_t ack, bool keep_alive) {
    mode_ = Mode::kPoll;
    poll_keep_alive_ = keep_alive;
    waiting_ = std::move(session);
    waiting_->attach(weak_from_this(), this, &tick_, ack);
    wait_timer_.expires_after(std::chrono::milliseconds(state_->config.poll_timeout_ms));
    wait_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->mode_ != Mode::kPoll || self->write_in_flight_) return;
      guard("poll timeout", [&] { self->answer_poll(self->waiting_->take(self.get())); },
            [&] { self->end_waiting(); });
    });
  }

  // Takes what the session has for this waiter and writes it (flush, write completions).
  void pump() {
    if (!waiting_ || write_in_flight_ || ending_) return;
    HttpStreamSession::Batch batch = waiting_->take(this);
    if (mode_ == Mode::kPoll) {
      if (batch.messages.empty() && !batch.close && !batch.superseded) return;  // nothing new: keep waiting
      return answer_poll(std::move(batch));
    }
    if (mode_ != Mode::kStream) return;
    if (batch.superseded) return end_waiting();
    std::string events = HttpTransport::sse_events(batch);
    if (events.empty()) return;
    // Nothing leaves before the history it reports is committed (as WebsocketSession::do_write).
    if (state_->history_store) state_->history_store->sync();
    std::string chunk;
    append_chunk(chunk, events);
    if (batch.close) {
      ending_ = true;
      close_delivered_ = true;
      chunk += "0\r\n\r\n";  // the last chunk: the response ends
    }
    write_stream(std::move(chunk));
  }

  void answer_poll(HttpStreamSession::Batch batch) {
    wait_timer_.cancel();
    HttpReply r;
    if (batch.superseded) {
      r.status = 409;
      r.body = json_error_body("superseded", "another poll or stream of this session took over");
    } else {
      r.body = HttpTransport::poll_body(waiting_->id(), batch);
      r.content_type = "application/x-ndjson";
      r.headers.emplace_back("Cache-Control", "no-store");
    }
    for (auto& h : extra_headers_) r.headers.push_back(std::move(h));
    extra_headers_.clear();
    close_delivered_ = batch.close.has_value();
    if (state_->history_store) state_->history_store->sync();
    waiting_->detach(this, wall_clock_ms());
    if (close_delivered_) waiting_->finish();
    waiting_.reset();
    mode_ = Mode::kIdle;
    write_reply(r, 11, poll_keep_alive_ && !close_delivered_);
  }

  // The stream ended (written to its end, superseded, failed, or the client left): detach and close.
  void end_waiting() {
    wait_timer_.cancel();
    if (waiting_) {
      waiting_->detach(this, wall_clock_ms());
      if (close_delivered_) waiting_->finish();
      waiting_.reset();
    }
    const bool was_stream = mode_ == Mode::kStream;
    mode_ = Mode::kIdle;
    ending_ = true;
    beast::error_code ignored;
    if (was_stream) stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  void on_write(beast::error_code ec, bool keep_alive) {
    if (ec) return stream_.close();
    guard("http on_write", [&] {
      // A response that ends the connection (a refused upgrade, Connection: close, a refused request) lingers, so
      // a client still sending does not get a reset that eats the response.
      if (!keep_alive) return void(async_linger(stream_, [self = shared_from_this()](beast::error_code) {}));
      do_read();
    }, [this] { stream_.close(); });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ServerState> state_;
  FlushTick& tick_;
  std::optional<http::request_parser<http::string_body>> parser_;
  net::steady_timer request_timer_;  // the request deadline (408)
  bool timed_out_ = false;
  // The HTTP transports: this connection as an SSE stream or a pending poll. This I/O thread only.
  Mode mode_ = Mode::kIdle;
  std::shared_ptr<HttpStreamSession> waiting_;
  net::steady_timer wait_timer_;  // the poll timeout, or the SSE heartbeat
  std::string out_buffer_;
  char watch_buffer_[512];
  bool write_in_flight_ = false;
  bool ending_ = false;           // the stream's last bytes are written or being written
  bool close_delivered_ = false;  // the session's close went out: finish it
  bool poll_keep_alive_ = false;
  unsigned stalled_beats_ = 0;    // SSE heartbeats in a row that found the same write in flight
  std::vector<std::pair<std::string, std::string>> extra_headers_;  // CORS headers of the stream or poll
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// listener: accepts connections (on the first I/O thread), each onto the next I/O thread in turn.
Listener::Listener(IoThreads& threads, std::shared_ptr<ServerState> state)
    : threads_(threads),
      acceptor_(threads.front()->ioc),
      retry_timer_(acceptor_.get_executor()),
      state_(std::move(state)) {}

std::string Listener::listen(const tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  return ec ? ec.message() : std::string();
}

std::uint16_t Listener::port() const {
  beast::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void Listener::run() { do_accept(); }

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    guard("listener stop", [&] {
      self->stopped_ = true;
      self->retry_timer_.cancel();
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  });
}

void Listener::do_accept() {
  accepting_ = next_;
  next_ = (next_ + 1) % threads_.size();
  acceptor_.async_accept(threads_[accepting_]->ioc,
                         beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopped_) return;
  if (ec) {
    // Typically EMFILE: retry shortly instead of spinning on the error.
    log(LogLevel::kWarn, "msg=\"accept failed\" error=", log_quoted(ec.message()));
    guard("accept retry", [&] {
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
        if (!e && !self->stopped_) guard("accept", [&] { self->do_accept(); });
      });
    });
    return;
  }
  // Nagle off: a real-time server's small writes must leave at once, not wait for the previous segment's ACK
  // (which the peer may delay by up to 40 ms). Batching is the write queue's job, not the kernel's.
  beast::error_code nodelay_ec;
  socket.set_option(tcp::no_delay(true), nodelay_ec);
  FlushTick& tick = threads_[accepting_]->tick;
  guard("accept", [&] { std::make_shared<HttpSession>(std::move(socket), state_, tick)->run(); });
  guard("accept", [&] { do_accept(); });
}

}  // namespace tidewire::server

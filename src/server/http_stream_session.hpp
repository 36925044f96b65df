// One session of the HTTP transports (Server-Sent Events and long polling, docs/PROTOCOL.md "HTTP transports"):
// what a WebSocket connection is to the MessageHandler, without a socket of its own. The client reaches it with
// several HTTP requests, possibly on several TCP connections (so on several I/O threads): GET .../sse or
// .../poll to receive, POST .../send to send. Beast-free; the transport (transport.cpp) moves the bytes.
//
// Outgoing messages get sequence numbers (1, 2, ...) and stay queued until the client acknowledges them (the
// `ack` parameter of its next poll, stream open or send), so a response lost in flight is sent again to the next
// poll or stream: nothing is lost between polls and nothing is delivered twice. The unacknowledged messages are
// bounded like a WebSocket's unsent ones (--max-queued-bytes, --max-queued-messages): past them, close 1013.
//
// The receiver is a "waiter" (the HTTP connection running the stream or the poll), at most one at a time: a new
// stream or poll replaces the previous one, which is flushed once more and sees that it was superseded. A waiter
// is listed on its I/O thread's FlushTick when there is something to take (the same batching as WebSocket
// writes), and takes a batch with take(). With no waiter for --http-session-timeout-ms the session ends (the
// transport's sweep calls finish()).
//
// Threading: the hub's fan-out and the broker's acks call send()/deliver() from any thread (the queue has its
// own mutex); the handler's entry points run under handler_mutex_, since the requests of one session may arrive
// on different I/O threads (so ConnectionProtocolState is never touched by two threads at once). The queue mutex
// is never held while calling into the handler, and deliver() never takes handler_mutex_ (the hub calls it with a
// channel's lock held).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/flush_tick.hpp"
#include "server/jwt_verifier.hpp"
#include "server/message_handler.hpp"
#include "server/session_registry.hpp"
#include "server/session_sink.hpp"

namespace tidewire::server {

class HttpStreamSession : public SessionSink,
                          public Stoppable,
                          public std::enable_shared_from_this<HttpStreamSession> {
 public:
  struct Options {
    std::uint64_t max_queued_bytes = 4u << 20;
    std::uint32_t max_queued_messages = 10000;
  };
  struct CloseInfo {
    std::uint16_t code = 0;
    std::string reason;
  };
  // What a waiter takes: messages with sequence numbers first_seq .. last_seq (in order), and the close once
  // every queued message was taken.
  struct Batch {
    std::vector<SharedFrame> messages;
    std::uint64_t last_seq = 0;    // the last message's sequence number; with none, the waiter's cursor
    bool superseded = false;       // another waiter took over (or the session is finished): end this one
    std::optional<CloseInfo> close;
  };
  // Called once the session is finished (to drop it from the transport's table and the registry). Any thread.
  using OnFinished = std::function<void(HttpStreamSession& session)>;

  // `ioc`: where the token expiry timer runs. Call open() next.
  HttpStreamSession(std::string id, MessageHandler& handler, boost::asio::io_context& ioc, Options options,
                    OnFinished on_finished);
  ~HttpStreamSession() override;

  const std::string& id() const { return id_; }
  // The authenticated user (set by open(), then constant).
  const std::string& user_id() const { return user_id_; }

  // The handler's on_open with the token's claims: queues auth_success (or a 4005 close). Once.
  void open(const JwtClaims& claims);
  // A POST body: '\n'-separated messages, handled in order as a WebSocket text frame would be.
  void on_text(std::string_view body);
  // A POST body of application/octet-stream: one frame, handled as a WebSocket binary frame would be.
  void on_binary(std::string_view frame);
  // Drops the messages up to `ack`. False (nothing dropped) when `ack` is past the last message sent.
  bool acknowledge(std::uint64_t ack);
  // The last sequence number handed to any waiter (what a client may acknowledge).
  std::uint64_t sent_seq() const;

  // Makes `waiter` (identified by `who`, flushed on `tick`) the receiver; the messages after `ack` are sent to
  // it (again). A previous waiter is listed on its tick and finds itself superseded.
  void attach(std::weak_ptr<Flushable> waiter, const void* who, FlushTick* tick, std::uint64_t ack);
  // Up to a batch's worth of messages after the waiter's cursor. The waiter's thread.
  Batch take(const void* who);
  // The waiter is gone (its response was written or its connection failed): the session timeout starts.
  void detach(const void* who, std::uint64_t now_ms);
  // True when no waiter has been attached for `timeout_ms` (or the session is finished).
  bool idle_longer_than(std::uint64_t now_ms, std::uint64_t timeout_ms) const;
  // Ends the session: the handler's on_close (its channels are left, its user slot released), once.
  void finish();
  bool finished() const;

  // SessionSink (any thread)
  void send(std::string message) override;
  void deliver(const SharedFrame& message) override;
  void close(std::uint16_t code, std::string reason) override;
  std::shared_ptr<Subscriber> subscriber() override { return shared_from_this(); }
  void arm_expiry_timer(std::uint64_t at_ms) override;
  // A continuation of the handler (an async subscribe: chat membership, a broker join) from another thread: run on
  // the session's io_context under handler_mutex_, like the session's requests, never inline on the caller.
  void post(std::function<void()> fn) override;

  // Stoppable: the server shuts down. Close 1001 with the retry hint; without a waiter, finish now.
  void stop() override;

 private:
  struct Entry {
    std::uint64_t seq;
    SharedFrame frame;
  };
  void enqueue(SharedFrame frame);
  void notify_locked();  // lists the waiter on its tick, once per batch; mutex_ held

  const std::string id_;
  MessageHandler& handler_;
  boost::asio::steady_timer expiry_timer_;
  const Options options_;
  const OnFinished on_finished_;
  std::string user_id_;

  std::mutex handler_mutex_;      // the handler's entry points
  ConnectionProtocolState conn_;  // guarded by handler_mutex_
  bool opened_ = false;           // guarded by handler_mutex_: on_close runs once

  mutable std::mutex mutex_;  // everything below
  std::deque<Entry> queue_;   // unacknowledged, in order
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t sent_seq_ = 0;   // highest sequence number handed to a waiter
  std::uint64_t cursor_ = 0;     // the current waiter's: the last sequence number it took
  std::optional<CloseInfo> close_;
  bool finished_ = false;
  std::weak_ptr<Flushable> waiter_;
  const void* waiter_id_ = nullptr;
  FlushTick* waiter_tick_ = nullptr;
  bool notified_ = false;             // the waiter is listed and has not taken yet
  std::uint64_t detached_since_ms_ = 0;  // 0 while a waiter is attached
};

// 128 random bits: "s-" and 32 lowercase hex digits.
std::string make_session_id();

}  // namespace tidewire::server

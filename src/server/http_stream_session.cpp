#include "server/http_stream_session.hpp"

#include <openssl/rand.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <utility>

#include "server/guard.hpp"
#include "server/log.hpp"
#include "server/outbound_queue.hpp"
#include "server/random_id.hpp"

namespace tidewire::server {

std::string make_session_id() {
  unsigned char bytes[16];
  std::string id = "s-";
  // RAND_bytes fails only with a broken entropy source; then two 64-bit ids (unique, if predictable).
  if (RAND_bytes(bytes, sizeof bytes) != 1) return id + make_connection_id().substr(2) + make_epoch().substr(2);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

HttpStreamSession::HttpStreamSession(std::string id, MessageHandler& handler, boost::asio::io_context& ioc,
                                     Options options, OnFinished on_finished)
    : id_(std::move(id)),
      handler_(handler),
      expiry_timer_(ioc),
      options_(options),
      on_finished_(std::move(on_finished)),
      detached_since_ms_(handler.now_ms()) {}

HttpStreamSession::~HttpStreamSession() = default;

void HttpStreamSession::open(const JwtClaims& claims) {
  std::lock_guard<std::mutex> lock(handler_mutex_);
  if (opened_) return;
  conn_.connection_id = make_connection_id();
  user_id_ = claims.sub;
  opened_ = true;
  log(LogLevel::kDebug, "msg=\"http session open\" conn=", conn_.connection_id, " user=", log_quoted(claims.sub));
  handler_.on_open(conn_, *this, &claims);
}

void HttpStreamSession::post(std::function<void()> fn) {
  boost::asio::post(expiry_timer_.get_executor(), [self = shared_from_this(), fn = std::move(fn)] {
    guard("http session continuation", [&] {
      std::lock_guard<std::mutex> lock(self->handler_mutex_);
      fn();  // checks the connection's `closed` itself
    });
  });
}

void HttpStreamSession::on_text(std::string_view body) {
  std::lock_guard<std::mutex> lock(handler_mutex_);
  if (!opened_ || conn_.closed) return;
  handler_.on_text(conn_, *this, body);
}

void HttpStreamSession::on_binary(std::string_view frame) {
  std::lock_guard<std::mutex> lock(handler_mutex_);
  if (!opened_ || conn_.closed) return;
  handler_.on_binary(conn_, *this, frame);
}

bool HttpStreamSession::acknowledge(std::uint64_t ack) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ack > sent_seq_) return false;
  while (!queue_.empty() && queue_.front().seq <= ack) {
    queued_bytes_ -= queue_.front().frame->size();
    queue_.pop_front();
  }
  return true;
}

std::uint64_t HttpStreamSession::sent_seq() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sent_seq_;
}

void HttpStreamSession::attach(std::weak_ptr<Flushable> waiter, const void* who, FlushTick* tick, std::uint64_t ack) {
  std::weak_ptr<Flushable> previous;
  FlushTick* previous_tick = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!queue_.empty() && queue_.front().seq <= ack) {
      queued_bytes_ -= queue_.front().frame->size();
      queue_.pop_front();
    }
    if (waiter_id_ && waiter_id_ != who) {
      previous = std::move(waiter_);
      previous_tick = waiter_tick_;
    }
    waiter_ = std::move(waiter);
    waiter_id_ = who;
    waiter_tick_ = tick;
    // Everything still queued (sent before but not acknowledged, or never sent) goes to this waiter.
    cursor_ = queue_.empty() ? std::max(ack, sent_seq_) : queue_.front().seq - 1;
    detached_since_ms_ = 0;
    notified_ = false;
    if (!queue_.empty() || close_ || finished_) notify_locked();
  }
  if (previous_tick) previous_tick->add(std::move(previous));  // it takes, finds itself superseded, and ends
}

HttpStreamSession::Batch HttpStreamSession::take(const void* who) {
  Batch batch;
  std::lock_guard<std::mutex> lock(mutex_);
  if (who != waiter_id_ || finished_) {
    batch.superseded = true;
    return batch;
  }
  notified_ = false;
  std::size_t bytes = 0;
  for (const Entry& e : queue_) {
    if (e.seq <= cursor_) continue;
    if (!batch.messages.empty() && (batch.messages.size() >= OutboundQueue::kMaxBatchMessages ||
                                    bytes + e.frame->size() > OutboundQueue::kMaxBatchBytes))
      break;
    bytes += e.frame->size() + 1;
    batch.messages.push_back(e.frame);
    cursor_ = e.seq;
  }
  sent_seq_ = std::max(sent_seq_, cursor_);
  batch.last_seq = cursor_;
  const bool all_taken = queue_.empty() || queue_.back().seq <= cursor_;
  if (close_ && all_taken) batch.close = close_;
  return batch;
}

void HttpStreamSession::detach(const void* who, std::uint64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (who != waiter_id_) return;
  waiter_.reset();
  waiter_id_ = nullptr;
  waiter_tick_ = nullptr;
  notified_ = false;
  detached_since_ms_ = std::max<std::uint64_t>(now_ms, 1);
}

bool HttpStreamSession::idle_longer_than(std::uint64_t now_ms, std::uint64_t timeout_ms) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return true;
  return detached_since_ms_ != 0 && now_ms >= detached_since_ms_ + timeout_ms;
}

bool HttpStreamSession::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_;
}

void HttpStreamSession::finish() {
  std::weak_ptr<Flushable> waiter;
  FlushTick* tick = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    finished_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    waiter = waiter_;
    tick = waiter_tick_;
  }
  if (tick) tick->add(std::move(waiter));  // a waiter still attached ends (superseded)
  {
    // The timer is only touched on its own io_context's thread.
    boost::asio::post(expiry_timer_.get_executor(), [self = shared_from_this()] {
      guard("http session cancel expiry", [&] { self->expiry_timer_.cancel(); });
    });
    std::lock_guard<std::mutex> lock(handler_mutex_);
    if (opened_) {
      log(LogLevel::kDebug, "msg=\"http session end\" conn=", conn_.connection_id, " user=", log_quoted(user_id_));
      handler_.on_close(conn_, *this);
      opened_ = false;
    }
  }
  if (on_finished_) on_finished_(*this);
}

void HttpStreamSession::send(std::string message) { enqueue(std::make_shared<const std::string>(std::move(message))); }

void HttpStreamSession::deliver(const SharedFrame& message) {
  // A binary broadcast (PROTOCOL.md section 13) is queued like any other message; the transport writes it in
  // base64 (HttpTransport::sse_events, poll_body).
  Metrics::add(handler_.metrics().deliveries);
  enqueue(message);
}

void HttpStreamSession::enqueue(SharedFrame frame) {
  Metrics& m = handler_.metrics();
  Metrics::add(m.messages_out);
  std::lock_guard<std::mutex> lock(mutex_);
  if (close_ || finished_) return Metrics::add(m.drops);
  if (queue_.size() + 1 > options_.max_queued_messages || queued_bytes_ + frame->size() > options_.max_queued_bytes) {
    // The same bound as a WebSocket's unsent messages, counted here until acknowledged: the client is not
    // keeping up (or not acknowledging). What it has not taken is dropped; the close tells it to recover.
    Metrics::add(m.drops);
    Metrics::add(m.slow_consumer_closes);
    log(LogLevel::kWarn, "msg=\"slow consumer: closing http session with 1013\" session_user=", log_quoted(user_id_));
    while (!queue_.empty() && queue_.back().seq > cursor_) {
      queued_bytes_ -= queue_.back().frame->size();
      queue_.pop_back();
    }
    close_ = CloseInfo{wire::close_code::kTryAgainLater, "slow consumer"};
    notify_locked();
    return;
  }
  queued_bytes_ += frame->size();
  queue_.push_back(Entry{next_seq_++, std::move(frame)});
  notify_locked();
}

void HttpStreamSession::notify_locked() {
  if (notified_ || !waiter_tick_) return;
  notified_ = true;
  waiter_tick_->add(waiter_);
}

void HttpStreamSession::close(std::uint16_t code, std::string reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (close_ || finished_) return;
  if (reason.size() > 123) reason.resize(123);
  close_ = CloseInfo{code, std::move(reason)};
  notify_locked();
}

void HttpStreamSession::arm_expiry_timer(std::uint64_t at_ms) {
  std::weak_ptr<HttpStreamSession> weak = weak_from_this();
  boost::asio::post(expiry_timer_.get_executor(), [weak, at_ms] {
    auto self = weak.lock();
    if (!self) return;
    guard("http session arm_expiry", [&] {
      const std::uint64_t now = self->handler_.now_ms();
      const std::uint64_t wait = std::min<std::uint64_t>(at_ms > now ? at_ms - now : 0, 24ull * 3600 * 1000);
      self->expiry_timer_.expires_after(std::chrono::milliseconds(wait));
      self->expiry_timer_.async_wait([weak](const boost::system::error_code& ec) {
        if (ec) return;
        auto s = weak.lock();
        if (!s) return;
        guard("http session expiry", [&] {
          std::lock_guard<std::mutex> lock(s->handler_mutex_);
          if (s->opened_) s->handler_.on_expiry_timer(s->conn_, *s);
        });
      });
    });
  });
}

void HttpStreamSession::stop() {
  close(wire::close_code::kGoingAway, "server shutting down; retry_after_ms=2000");
  bool attached = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    attached = waiter_id_ != nullptr;
  }
  if (!attached) finish();
}

}  // namespace tidewire::server

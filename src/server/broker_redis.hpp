// --broker redis://host:port[/db]: channel streams in Redis, shared by every node (design in broker.hpp).
//
// Keys, hash-tagged by channel so Redis Cluster could shard them: tw:{C}:meta (hash: epoch, offset),
// tw:{C}:s (stream; entry id = offset, fields t f c e p b), tw:{C}:d:<from>\x1f<id> (dedupe, expires with the
// history). PUB/SUB channel tw:{C}. The two Lua scripts are in broker_redis.cpp.
//
// Threads: one io_context runs both connections (redis_connection.hpp) and every callback ("the broker thread"
// below):
// - with --threads 1 (the default), the I/O thread's own (RedisBrokerOptions::ioc). A PUB/SUB message is then
//   parsed and fanned out (Hub::apply_remote) by the thread that writes the sockets, and counts as a read for its
//   flush tick's burst detection (FlushTick::note_read), so a burst of messages from Redis leaves in one frame per
//   subscriber, with no wake-up of another thread and no flush tick armed from outside. Without a write delay,
//   the commands to Redis wait for that tick too (RedisConnection::write_at_end_of_burst): the publishes of one
//   burst of client messages leave in one write, so Redis runs them in one turn and sends their PUB/SUB messages
//   to every node in one write, and the burst stays one frame per subscriber on every node, as on one node.
//   This is why the broker must never wait for Redis on the thread that calls it: join() answers later
//   (broker.hpp).
// - with more I/O threads, a thread of its own. The connections belong to one io_context, and a message reaches
//   subscribers on every I/O thread, so most deliveries cross threads whichever thread reads it; on one of the I/O
//   threads, every Redis read and parse of the node, and the publishes and joins of the other threads, would queue
//   behind that thread's own connections (an unbalanced thread, latency for all), which --threads N is there to
//   avoid. A thread of its own keeps the I/O threads symmetric and takes a core's worth of broker work off them.
// The channel table (mutex_) is shared with the I/O threads calling join() and release_idle(); the hub's locks are
// taken after it. A join's `resume` and a publish's `done` are called on the broker thread, outside mutex_.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/broker.hpp"
#include "server/flush_tick.hpp"
#include "server/metrics.hpp"
#include "server/random_id.hpp"
#include "server/redis_connection.hpp"

namespace tidewire::server {

struct RedisBrokerOptions {
  RedisAddress address;
  std::string node_id;     // names the connections (CLIENT LIST: tidewire:<node>:cmd / :pubsub)
  HistoryLimits history;   // stream MAXLEN and age (PEXPIRE, and the hub's pruning)
  // Presence diffs share the channel's PUB/SUB channel (messages starting "p|", presence_store_redis.hpp): they
  // go here, with the channel and the rest of the message. Called on the broker thread.
  std::function<void(const std::string& channel, std::string_view message)> on_presence;
  // The node starts or stops listening to `channel` ("": to every channel, the PUB/SUB connection was lost):
  // presence diffs before it may have been missed (presence_store_redis.hpp drops its copy). Broker thread.
  std::function<void(const std::string& channel)> on_listening_changed;
  // Where the connections run: an I/O thread's io_context (--threads 1; run by that thread, not owned), or null for
  // a thread of the broker's own.
  boost::asio::io_context* ioc = nullptr;
  // That I/O thread's flush tick (null with a thread of the broker's own): each PUB/SUB message is a read for it,
  // and without a write delay the connections write at its end of burst.
  FlushTick* tick = nullptr;
};

class RedisBroker final : public Broker {
 public:
  // How long a join waits for Redis before it is resumed with `unavailable`.
  static constexpr std::chrono::seconds kJoinTimeout{5};

  RedisBroker(Hub& hub, RedisBrokerOptions options, Metrics& metrics);
  ~RedisBroker() override;

  void publish(const PublishRequest& request, Done done) override;
  using Broker::join;
  bool join(std::string_view channel, const std::function<void()>& add, Resume resume) override;
  void release_idle() override;
  bool healthy() const override { return commands_up_.load() && pubsub_up_.load(); }
  // On an I/O thread's io_context: call once that thread has stopped running it (run_server does), so the
  // connections close while the io_context still exists. With a thread of its own: stops and joins it.
  void stop() override;

 private:
  struct ChannelState {
    bool listening = false;  // SUBSCRIBE sent (again after each PUB/SUB reconnect)
    bool confirmed = false;  // ... and confirmed: the stream is read after this, never before
    bool ready = false;      // the hub's copy was read from the stream since then
    bool loading = false;
    bool reload = false;     // a gap was seen while loading: read again when done
    std::vector<Resume> waiters;  // joins waiting for the copy: the channel is not released meanwhile
    std::uint64_t round = 0;      // bumped when the waiters are answered: a stale timeout does nothing
    std::unique_ptr<boost::asio::steady_timer> timeout;  // kJoinTimeout for the waiters (broker thread)
  };

  // Broker thread only.
  void start_join(const std::string& channel, bool subscribe, bool first);
  void on_join_timeout(const std::string& channel, std::uint64_t round);
  void stop_connections();
  void on_commands_up();
  void on_pubsub_up();
  void on_pubsub_down();
  void on_push(const redisReply* reply);
  void request_load(const std::string& channel, bool backfill);
  void load(const std::string& channel);
  void on_loaded(const std::string& channel, const redisReply* reply);
  void settle(const std::string& channel, bool ok);  // ends a load: resumes the joins, reloads when asked
  // With mutex_ held: the channel's waiters, taken (and their timeout cancelled), to be called without it.
  static std::vector<Resume> take_waiters(ChannelState& state);
  void record_round_trip(std::chrono::steady_clock::time_point start);
  void reload_scripts_if_flushed(const redisReply* error);

  Hub& hub_;
  RedisBrokerOptions options_;
  EpochSequence epochs_;  // the epoch each publish offers, used when it creates the channel's stream
  Metrics& metrics_;
  std::unique_ptr<boost::asio::io_context> own_ioc_;  // null on an I/O thread's io_context
  boost::asio::io_context& ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;  // own thread
  RedisConnection commands_;
  RedisConnection pubsub_;
  std::atomic<bool> commands_up_{false};
  std::atomic<bool> pubsub_up_{false};
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
  std::map<std::string, ChannelState, std::less<>> channels_;
  std::thread thread_;  // last: started once everything above exists (own io_context only)
};

}  // namespace tidewire::server

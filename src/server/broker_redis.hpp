// --broker redis://host:port[/db]: channel streams in Redis, shared by every node (design in broker.hpp).
//
// Keys, hash-tagged by channel so Redis Cluster could shard them: tw:{C}:meta (hash: epoch, offset),
// tw:{C}:s (stream; entry id = offset, fields t f c e p b), tw:{C}:d:<from>\x1f<id> (dedupe, expires with the
// history). PUB/SUB channel tw:{C}. The two Lua scripts are in broker_redis.cpp.
//
// Threads: one io_context thread of its own runs both connections (redis_connection.hpp) and every callback.
// The channel table (mutex_) is shared with the I/O threads calling join(); the hub's locks are taken after it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "server/broker.hpp"
#include "server/metrics.hpp"
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
};

class RedisBroker final : public Broker {
 public:
  // How long join() waits for Redis before it answers `unavailable`.
  static constexpr std::chrono::seconds kJoinTimeout{5};

  RedisBroker(Hub& hub, RedisBrokerOptions options, Metrics& metrics);
  ~RedisBroker() override;

  void publish(const PublishRequest& request, Done done) override;
  bool join(std::string_view channel, const std::function<void()>& add) override;
  void release_idle() override;
  bool healthy() const override { return commands_up_.load() && pubsub_up_.load(); }

 private:
  struct ChannelState {
    bool listening = false;  // SUBSCRIBE sent (again after each PUB/SUB reconnect)
    bool ready = false;      // the hub's copy was read from the stream since then
    bool loading = false;
    bool reload = false;     // a gap was seen while loading: read again when done
    int joining = 0;         // join() calls waiting: the channel must not be released
    std::vector<std::shared_ptr<std::promise<bool>>> waiters;
  };

  // Broker thread only.
  void on_commands_up();
  void on_pubsub_up();
  void on_pubsub_down();
  void on_push(const redisReply* reply);
  void request_load(const std::string& channel, bool backfill);
  void load(const std::string& channel);
  void on_loaded(const std::string& channel, const redisReply* reply);
  void settle(const std::string& channel, bool ok);  // ends a load: wakes join() calls, reloads when asked
  void record_round_trip(std::chrono::steady_clock::time_point start);
  void reload_scripts_if_flushed(const redisReply* error);

  Hub& hub_;
  RedisBrokerOptions options_;
  Metrics& metrics_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  RedisConnection commands_;
  RedisConnection pubsub_;
  std::atomic<bool> commands_up_{false};
  std::atomic<bool> pubsub_up_{false};
  std::mutex mutex_;
  std::map<std::string, ChannelState, std::less<>> channels_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace tidewire::server

// One hiredis asynchronous connection driven by an Asio io_context (hiredis 0.14 ships no Asio adapter): the
// socket is watched with posix::stream_descriptor::async_wait and hiredis does the reading and writing.
//
// Commands are written when the socket is writable, which is at the next look at the sockets: with a burst of
// client messages arriving as one handler each, that is one write per command. write_at_end_of_burst() makes them
// wait for the I/O thread's flush tick instead (flush_tick.hpp, zero period), as the WebSocket writes do: the
// commands of one burst leave in one write (and Redis answers them, and publishes their PUB/SUB messages, in one
// turn). A write the socket does not take whole waits for writability as before.
//
// It reconnects by itself (every kRetry) after a failure or a disconnection; on_up / on_down report the
// transitions. Everything runs on the io_context's one thread: call it from there only (post to it). hiredis
// frees its context after the disconnect callback, so the pointer is nulled there and never used after.
// SIGPIPE must be ignored by the process (main.cpp does).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/flush_tick.hpp"
#include "server/redis_address.hpp"

struct redisAsyncContext;
struct redisReply;

namespace tidewire::server {

class RedisConnection {
 public:
  // A command's reply; null when the connection was lost before it came.
  using Reply = std::function<void(const redisReply*)>;
  static constexpr std::chrono::milliseconds kRetry{100};

  RedisConnection(boost::asio::io_context& ioc, RedisAddress address);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // on_up runs after each (re)connection, on_down after each loss. `push` gets every PUB/SUB reply (subscribe
  // confirmations and messages) of commands sent with subscribe_command(). Set before start().
  void set_handlers(std::function<void()> on_up, std::function<void()> on_down, Reply push);
  void start();
  // Stops reconnecting and closes the connection (pending replies get null).
  void stop();
  bool connected() const { return ctx_ != nullptr && up_; }

  // False (and `reply` is not called) when not connected.
  bool command(const std::vector<std::string>& args, Reply reply);
  // SUBSCRIBE / UNSUBSCRIBE: the replies go to the push handler.
  bool subscribe_command(const std::vector<std::string>& args);
  // Once connected, commands wait for `tick` (of this io_context's thread, zero period; it outlives the
  // connection) rather than for writability. Before start().
  void write_at_end_of_burst(FlushTick& tick);

 private:
  void connect();
  void retry_later();
  void watch_read();
  void watch_write();
  void want_write();    // hiredis has something to write
  void flush_writes();  // the flush tick: write what hiredis holds
  void detach();  // the context is gone (freed by hiredis): forget it and its socket
  static void on_connect(const redisAsyncContext* c, int status);
  static void on_disconnect(const redisAsyncContext* c, int status);
  static void on_reply(redisAsyncContext* c, void* reply, void* privdata);
  static void on_push(redisAsyncContext* c, void* reply, void* privdata);
  bool send(const std::vector<std::string>& args, void (*fn)(redisAsyncContext*, void*, void*), void* privdata);

  RedisAddress address_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer retry_;
  redisAsyncContext* ctx_ = nullptr;
  bool up_ = false;
  bool stopped_ = false;
  bool want_read_ = false, want_write_ = false;
  bool read_armed_ = false, write_armed_ = false;
  // write_at_end_of_burst(): the tick, this connection as its target, whether it is listed, and whether hiredis
  // is writing from the tick (a write it could not finish then waits for writability).
  struct Writer final : Flushable {
    RedisConnection* owner;
    explicit Writer(RedisConnection* o) : owner(o) {}
    void flush() noexcept override { owner->flush_writes(); }
  };
  FlushTick* tick_ = nullptr;
  std::shared_ptr<Writer> writer_;
  bool write_listed_ = false;
  bool in_flush_ = false;
  std::function<void()> on_up_, on_down_;
  Reply push_;
};

}  // namespace tidewire::server

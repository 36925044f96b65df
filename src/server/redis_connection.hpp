// One hiredis asynchronous connection driven by an Asio io_context (hiredis 0.14 ships no Asio adapter): the
// socket is watched with posix::stream_descriptor::async_wait and hiredis does the reading and writing.
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
#include <string>
#include <vector>

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

 private:
  void connect();
  void retry_later();
  void watch_read();
  void watch_write();
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
  std::function<void()> on_up_, on_down_;
  Reply push_;
};

}  // namespace tidewire::server

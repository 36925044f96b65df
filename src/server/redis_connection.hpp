// One hiredis asynchronous connection driven by an Asio io_context (hiredis 0.14 ships no Asio adapter) through a
// posix::stream_descriptor on hiredis's socket.
//
// Once connected, the connection reads with async_read_some into a buffer of its own and hands the bytes to
// hiredis's reader (redisReaderFeed, then redisProcessCallbacks, as redisAsyncHandleRead does after its read()),
// and it writes hiredis's output buffer from a posted handler (redisAsyncHandleWrite) instead of waiting for the
// socket to be writable. A wait (async_wait) is used only while connecting, after a write that could not finish,
// and to let hiredis see a read error or the end of the stream itself. Why: each async_wait re-registers the
// descriptor with epoll (one epoll_ctl per read, and one more plus an epoll round per write), while a read that
// drained the socket needs no syscall to wait for the next one (Asio's speculative read), and the commands issued
// in one turn of the io_context still leave in one write (the posted handler runs after them).
// `after_read` runs after every reply of one read was handled (the Redis broker flushes its fan-out there).
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
#include <cstddef>
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
  static constexpr std::size_t kReadBuffer = 64 * 1024;  // hiredis reads 16 KiB at a time

  RedisConnection(boost::asio::io_context& ioc, RedisAddress address);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // on_up runs after each (re)connection, on_down after each loss. `push` gets every PUB/SUB reply (subscribe
  // confirmations and messages) of commands sent with subscribe_command(). Set before start().
  void set_handlers(std::function<void()> on_up, std::function<void()> on_down, Reply push);
  // Called after each read from Redis, once every reply in it went to its callback or the push handler. Optional;
  // set before start().
  void set_after_read(std::function<void()> after_read) { after_read_ = std::move(after_read); }
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
  void on_read(const boost::system::error_code& ec, std::size_t n, std::uint64_t generation);
  void wait_writable(std::uint64_t generation);
  void on_writable(std::uint64_t generation);
  bool connecting() const;  // hiredis has not seen the connection complete yet
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
  // Bumped whenever the context goes or comes: a completion of an older one (already queued when it went) is
  // ignored, so bytes of a closed connection never reach the next one's reader.
  std::uint64_t generation_ = 0;
  std::vector<char> read_buffer_ = std::vector<char>(kReadBuffer);
  std::function<void()> on_up_, on_down_, after_read_;
  Reply push_;
};

}  // namespace tidewire::server

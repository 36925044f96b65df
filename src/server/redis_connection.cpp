#include "server/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string_view>

#include "server/guard.hpp"
#include "server/log.hpp"

namespace tidewire::server {

namespace net = boost::asio;

RedisConnection::RedisConnection(net::io_context& ioc, RedisAddress address)
    : address_(std::move(address)), socket_(ioc), retry_(ioc) {}

RedisConnection::~RedisConnection() { stop(); }

void RedisConnection::set_handlers(std::function<void()> on_up, std::function<void()> on_down, Reply push) {
  on_up_ = std::move(on_up);
  on_down_ = std::move(on_down);
  push_ = std::move(push);
}

void RedisConnection::start() { connect(); }

void RedisConnection::stop() {
  stopped_ = true;
  retry_.cancel();
  if (ctx_) redisAsyncFree(ctx_);  // pending callbacks get null replies; the cleanup hook detaches
  ctx_ = nullptr;
}

void RedisConnection::retry_later() {
  if (stopped_) return;
  retry_.expires_after(kRetry);
  retry_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) guard("redis connect", [this] { connect(); });
  });
}

void RedisConnection::connect() {
  redisAsyncContext* c = redisAsyncConnect(address_.host.c_str(), address_.port);
  if (!c) return retry_later();
  if (c->err) {
    redisAsyncFree(c);
    return retry_later();
  }
  ctx_ = c;
  c->data = this;
  c->ev.data = this;
  c->ev.addRead = [](void* p) {
    auto* self = static_cast<RedisConnection*>(p);
    self->want_read_ = true;
    self->watch_read();
  };
  c->ev.delRead = [](void* p) { static_cast<RedisConnection*>(p)->want_read_ = false; };
  c->ev.addWrite = [](void* p) { static_cast<RedisConnection*>(p)->want_write(); };
  c->ev.delWrite = [](void* p) { static_cast<RedisConnection*>(p)->want_write_ = false; };
  c->ev.cleanup = [](void* p) { static_cast<RedisConnection*>(p)->detach(); };
  boost::system::error_code ec;
  socket_.assign(c->c.fd, ec);
  redisAsyncSetConnectCallback(c, &RedisConnection::on_connect);
  redisAsyncSetDisconnectCallback(c, &RedisConnection::on_disconnect);
  if (address_.db != 0) command({"SELECT", std::to_string(address_.db)}, [](const redisReply*) {});
}

void RedisConnection::detach() {
  // hiredis owns (and closes) the descriptor: give it back without closing; waits end with operation_aborted.
  if (socket_.is_open()) socket_.release();
  want_read_ = want_write_ = read_armed_ = write_armed_ = false;
}

void RedisConnection::watch_read() {
  if (read_armed_ || !ctx_) return;
  read_armed_ = true;
  socket_.async_wait(net::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;  // released: the context is gone
    read_armed_ = false;
    guard("redis read", [this] {
      if (ctx_) redisAsyncHandleRead(ctx_);
      if (ctx_ && want_read_) watch_read();
    });
  });
}

void RedisConnection::watch_write() {
  if (write_armed_ || !ctx_) return;
  write_armed_ = true;
  socket_.async_wait(net::posix::stream_descriptor::wait_write, [this](const boost::system::error_code& ec) {
    if (ec) return;
    write_armed_ = false;
    guard("redis write", [this] {
      if (ctx_) redisAsyncHandleWrite(ctx_);
      if (ctx_ && want_write_) watch_write();
    });
  });
}

void RedisConnection::write_at_end_of_burst(FlushTick& tick) {
  tick_ = &tick;
  writer_ = std::make_shared<Writer>(this);
}

void RedisConnection::want_write() {
  want_write_ = true;
  // Connecting (hiredis learns of the connection by writability) or a write the tick could not finish: wait for
  // the socket.
  if (!tick_ || !up_ || in_flush_) return watch_write();
  if (write_listed_) return;
  write_listed_ = true;
  tick_->add(writer_);
}

void RedisConnection::flush_writes() {
  write_listed_ = false;
  if (!ctx_ || !want_write_ || write_armed_) return;
  in_flush_ = true;
  guard("redis write", [this] { redisAsyncHandleWrite(ctx_); });  // may call want_write(): the socket took part
  in_flush_ = false;
}

void RedisConnection::on_connect(const redisAsyncContext* c, int status) {
  auto* self = static_cast<RedisConnection*>(c->data);
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback, without a disconnect callback.
    log(LogLevel::kDebug, "msg=\"redis connect failed\" error=", log_quoted(c->errstr));
    self->ctx_ = nullptr;
    return self->retry_later();
  }
  self->up_ = true;
  if (self->on_up_) self->on_up_();
}

void RedisConnection::on_disconnect(const redisAsyncContext* c, int status) {
  auto* self = static_cast<RedisConnection*>(c->data);
  self->ctx_ = nullptr;  // freed by hiredis when this returns
  const bool was_up = self->up_;
  self->up_ = false;
  if (status != REDIS_OK) log(LogLevel::kWarn, "msg=\"redis connection lost\" error=", log_quoted(c->errstr));
  if (was_up && self->on_down_) self->on_down_();
  self->retry_later();
}

void RedisConnection::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<Reply> callback(static_cast<Reply*>(privdata));
  guard("redis reply", [&] { (*callback)(static_cast<const redisReply*>(reply)); });
}

void RedisConnection::on_push(redisAsyncContext* c, void* reply, void*) {
  auto* self = static_cast<RedisConnection*>(c->data);
  if (reply && self->push_) guard("redis push", [&] { self->push_(static_cast<const redisReply*>(reply)); });
}

bool RedisConnection::send(const std::vector<std::string>& args, void (*fn)(redisAsyncContext*, void*, void*),
                           void* privdata) {
  if (!ctx_) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAsyncCommandArgv(ctx_, fn, privdata, static_cast<int>(args.size()), argv.data(), lens.data()) ==
         REDIS_OK;
}

bool RedisConnection::command(const std::vector<std::string>& args, Reply reply) {
  auto callback = std::make_unique<Reply>(std::move(reply));
  if (!send(args, &RedisConnection::on_reply, callback.get())) return false;
  callback.release();  // on_reply owns it now
  return true;
}

bool RedisConnection::subscribe_command(const std::vector<std::string>& args) {
  return send(args, &RedisConnection::on_push, nullptr);
}

}  // namespace tidewire::server

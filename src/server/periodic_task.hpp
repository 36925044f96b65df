// A task run every `period` on one io_context (the server's sweeps, the services' tick, the shutdown's drain poll).
//
// Exception-safe: an exception from the task is logged (guard.hpp) and the next run still comes. Threading:
// start() and stop() on the io_context's thread (or before it runs); the task runs there too. After stop() the
// task does not run again, even when the timer had already fired and its handler was queued.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>

namespace tidewire::server {

class PeriodicTask {
 public:
  // `name`: for the log line of an exception (a string literal).
  PeriodicTask(boost::asio::io_context& ioc, std::chrono::milliseconds period, const char* name,
               std::function<void()> task);
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // The first run comes one period from now.
  void start();
  void stop() noexcept;

  std::size_t runs() const { return runs_; }

 private:
  void arm();

  boost::asio::steady_timer timer_;
  const std::chrono::milliseconds period_;
  const char* const name_;
  const std::function<void()> task_;
  bool running_ = false;
  std::size_t runs_ = 0;
};

}  // namespace tidewire::server

#include "server/periodic_task.hpp"

#include "server/guard.hpp"

namespace tidewire::server {

PeriodicTask::PeriodicTask(boost::asio::io_context& ioc, std::chrono::milliseconds period, const char* name,
                           std::function<void()> task)
    : timer_(ioc), period_(period), name_(name), task_(std::move(task)) {}

void PeriodicTask::start() {
  running_ = true;
  arm();
}

void PeriodicTask::stop() noexcept {
  running_ = false;
  guard(name_, [&] { timer_.cancel(); });
}

void PeriodicTask::arm() {
  timer_.expires_after(period_);
  // `this` is read only after a wait that completed without error: destroying the task cancels the wait, so a
  // handler that runs after that sees operation_aborted and touches nothing.
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !running_) return;
    ++runs_;
    guard(name_, [&] { task_(); });
    // A task that could not be re-armed (no memory) says so in the log and stops.
    if (running_) guard(name_, [&] { arm(); });
  });
}

}  // namespace tidewire::server

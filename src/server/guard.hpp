// guard(): how every Asio completion handler of the server stays exception-safe. An exception escaping a handler
// would unwind through io_context::run(); instead it is logged here and handed to the caller's recovery (close
// that one session with 1011, drop a socket, or nothing for a periodic task), and the I/O thread carries on.
#pragma once

#include <exception>

#include "server/log.hpp"

namespace tidewire::server {

// Runs `fn`; an exception is logged with `where` and handed to `on_error` (which must not throw).
template <typename Fn, typename OnError>
void guard(const char* where, Fn&& fn, OnError&& on_error) noexcept {
  try {
    fn();
  } catch (const std::exception& e) {
    log(LogLevel::kError, "msg=\"unexpected exception\" where=", where, " error=", log_quoted(e.what()));
    on_error();
  } catch (...) {
    log(LogLevel::kError, "msg=\"unexpected non-standard exception\" where=", where);
    on_error();
  }
}

// The same with nothing to recover.
template <typename Fn>
void guard(const char* where, Fn&& fn) noexcept {
  guard(where, static_cast<Fn&&>(fn), [] {});
}

}  // namespace tidewire::server

#include "server/run_loop.hpp"

#include <exception>

#include "server/log.hpp"

namespace tidewire::server {

void run_loop(boost::asio::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      log(LogLevel::kError, "msg=\"uncaught exception in the event loop\" error=", log_quoted(e.what()));
    } catch (...) {
      log(LogLevel::kError, "uncaught non-standard exception in the event loop");
    }
  }
}

}  // namespace tidewire::server

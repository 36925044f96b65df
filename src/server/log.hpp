// Leveled logging to stderr. STDOUT is reserved for the one "listening on" line that tests and scripts parse.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace tidewire::server {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

std::optional<LogLevel> parse_log_level(std::string_view s);
std::string_view log_level_name(LogLevel level);

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
// Writes one line "<time> tidewire-server <level>: <message>" atomically (one write per line, thread-safe).
void log_line(LogLevel level, std::string_view message);

// log(LogLevel::kInfo, "accepted ", n, " connections"): the arguments are streamed only when the level is on.
template <typename... Args>
void log(LogLevel level, const Args&... args) {
  if (!log_enabled(level)) return;
  std::ostringstream os;
  (os << ... << args);
  log_line(level, os.str());
}

}  // namespace tidewire::server

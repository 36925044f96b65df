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
// Writes one structured line atomically (one write per line, thread-safe):
//   ts=2026-11-22T00:20:00.123Z level=info msg="listening" port=8080
// A message that starts with `msg=` is taken as key=value pairs already; any other becomes msg="<message>".
void log_line(LogLevel level, std::string_view message);

// A value for a key=value log field: quoted, with quotes and backslashes escaped and newlines as spaces.
std::string log_quoted(std::string_view value);

// log(LogLevel::kInfo, "msg=accepted count=", n): the arguments: the arguments are streamed only when the level is on.
template <typename... Args>
void log(LogLevel level, const Args&... args) {
  if (!log_enabled(level)) return;
  std::ostringstream os;
  (os << ... << args);
  log_line(level, os.str());
}

}  // namespace tidewire::server

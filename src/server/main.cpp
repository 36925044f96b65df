// tidewire-server: the reference WebSocket server of docs/PROTOCOL.md. `tidewire-server --help` lists options.
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

#include "server/config.hpp"
#include "server/log.hpp"
#include "server/server.hpp"

int main(int argc, char** argv) {
  using namespace tidewire::server;
  const ConfigResult parsed = parse_config(argc, argv, process_env());
  if (parsed.status == ConfigStatus::kHelp) {
    std::cout << usage_text();
    return 0;
  }
  if (parsed.status == ConfigStatus::kError) {
    std::cerr << "tidewire-server: " << parsed.error << "\n";
    return 2;
  }
  set_log_level(parsed.config.log_level);
  std::signal(SIGPIPE, SIG_IGN);  // a peer that vanished must cost an error code, not the process
  // Startup warnings (development secret, dev tokens) print whatever the log level.
  for (const std::string& warning : parsed.warnings) log_line(LogLevel::kWarn, warning);
  try {
    return run_server(parsed.config);
  } catch (const std::exception& e) {
    log(LogLevel::kError, "fatal: ", e.what());
    return 1;
  }
}

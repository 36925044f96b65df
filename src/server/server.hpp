// The network side of the server, behind a Beast-free interface so main.cpp and tests need not compile Beast
// (transport.cpp is the only translation unit that includes it).
#pragma once

#include "server/config.hpp"

namespace tidewire::server {

// Binds, prints the "listening on" line to stdout, serves until SIGINT/SIGTERM, then closes every client with
// 1001 and returns the process exit code (0 after a clean shutdown, 1 when binding failed).
int run_server(const Config& config);

}  // namespace tidewire::server

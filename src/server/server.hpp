// The server's entry point for main.cpp, behind an interface with neither Asio nor Beast in it. run_server() is in
// server.cpp (the wiring, the I/O threads, the periodic tasks and the shutdown, with Asio only); the sockets are in
// transport.cpp, the one translation unit that includes Beast.
#pragma once

#include "server/config.hpp"

namespace tidewire::server {

// Binds, prints the "listening on" line to stdout, serves until SIGINT/SIGTERM, then closes every client with
// 1001 and returns the process exit code (0 after a clean shutdown, 1 when binding failed, 2 when the static
// directory, the data stores or the host could not be opened).
int run_server(const Config& config);

}  // namespace tidewire::server

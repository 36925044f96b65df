// One I/O thread of the server (--threads): its io_context, run by that thread alone, and its flush tick. A
// connection is placed on one I/O thread at accept and stays there, so its handlers never run concurrently.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "server/flush_tick.hpp"

namespace tidewire::server {

struct IoThread {
  explicit IoThread(std::uint32_t write_delay_us) : ioc(1), tick(ioc, std::chrono::microseconds(write_delay_us)) {}
  boost::asio::io_context ioc;  // concurrency hint 1: one thread runs it
  FlushTick tick;               // destroyed before ioc
};

// The server's I/O threads; the first one also runs the listener, the signals and the periodic tasks.
using IoThreads = std::vector<std::unique_ptr<IoThread>>;

}  // namespace tidewire::server

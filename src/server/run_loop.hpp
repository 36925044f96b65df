// run_loop(): runs an io_context on the calling thread until it is stopped (the I/O threads, the Redis broker's
// thread). A handler that let an exception escape (none should: see guard()) is logged and the loop resumes.
#pragma once

#include <boost/asio/io_context.hpp>

namespace tidewire::server {

void run_loop(boost::asio::io_context& ioc);

}  // namespace tidewire::server

// The network side of the server, seen from run_server (server.cpp) through Asio types only: transport.cpp, the
// one Boost.Beast translation unit (about a minute to compile here), holds the listener, the HTTP sessions and
// the WebSocket sessions; everything else stays out of it so that it rarely recompiles.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "server/io_thread.hpp"
#include "server/server_state.hpp"

namespace tidewire::server {

// Accepts connections on the first I/O thread and places each on the next I/O thread in turn, as an HTTP session
// (which hands an upgrade to a WebSocket session). Each session registers itself in state->registry.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `threads` outlives the listener and every session (run_server).
  Listener(IoThreads& threads, std::shared_ptr<ServerState> state);

  // Opens, binds and listens. Returns an error message, or "" once listening.
  std::string listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // The bound port (the one the OS chose for port 0).
  std::uint16_t port() const;
  // Starts accepting.
  void run();
  // Stops accepting (any thread); a failed accept's retry is cancelled too.
  void stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  IoThreads& threads_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<ServerState> state_;
  std::size_t next_ = 0;       // the I/O thread of the next accepted connection
  std::size_t accepting_ = 0;  // the I/O thread of the accept in flight
  bool stopped_ = false;       // first I/O thread only
};

}  // namespace tidewire::server

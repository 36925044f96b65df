// run_server(): the server's wiring and lifetime, with Asio only (no Beast: transport.cpp is the one Beast
// translation unit). It opens the static files and the data stores, builds the shared ServerState, starts one
// io_context per I/O thread and the listener, runs the periodic tasks, and shuts down on SIGINT/SIGTERM.
//
// Threading: one io_context per I/O thread, each run by its thread alone. The first one also runs the listener,
// the signals and the periodic tasks, so those need no lock among themselves. Every handler here runs inside
// guard() (directly or through PeriodicTask): an exception is logged and the server carries on.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/data_dir.hpp"
#include "server/guard.hpp"
#include "server/io_thread.hpp"
#include "server/log.hpp"
#include "server/periodic_task.hpp"
#include "server/run_loop.hpp"
#include "server/server.hpp"
#include "server/server_state.hpp"
#include "server/transport.hpp"

namespace tidewire::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// How long a shutdown waits for the sessions' closing handshakes before it stops the loops anyway.
constexpr std::chrono::seconds kDrainDeadline{5};

// The shared state, or null after logging why it could not be built (exit code 2).
std::shared_ptr<ServerState> open_state(const Config& config, BrokerLoop broker_loop) {
  std::optional<StaticFiles> static_files;
  if (!config.static_dir.empty()) {
    std::string error;
    static_files = StaticFiles::open(config.static_dir, error);
    if (!static_files) {
      log_line(LogLevel::kError, "--static-dir: " + error);
      return nullptr;
    }
  }
  DataStores stores;
  if (std::string error; !open_data_stores(config, stores, error)) {
    log_line(LogLevel::kError, error);
    return nullptr;
  }
  ServicesConfig services_config;
  services_config.db_path = stores.services_db_path;
  services_config.database = config.database;
  services_config.database_pool = config.database_pool;
  auto state = std::make_shared<ServerState>(config, std::move(static_files), std::move(stores.history),
                                             std::move(services_config), std::move(broker_loop));
  if (!state->bridge.services().ok())
    log_line(LogLevel::kError, "chat and sync are unavailable: " + state->bridge.services().open_error());
  else if (const std::string why = state->bridge.services().open_error(); !why.empty())
    log_line(LogLevel::kWarn, "chat and sync answer `unavailable` until the database can be reached: " + why);
  return state;
}

}  // namespace

int run_server(const Config& config) {
  // One io_context per I/O thread; the first one also runs the listener, the signals and the periodic tasks. Made
  // before the shared state, which may run the Redis broker on the first one, so they outlive it.
  IoThreads threads;
  for (unsigned i = 0; i < config.threads; ++i) threads.push_back(std::make_unique<IoThread>(config.write_delay_us));
  // --threads 1: the Redis broker's connections on the I/O thread, with its flush tick (broker_redis.hpp). More
  // threads: the broker runs a thread of its own.
  BrokerLoop broker_loop;
  if (config.threads == 1) {
    IoThread& io = *threads.front();
    broker_loop.ioc = &io.ioc;
    broker_loop.tick = &io.tick;
  }
  const std::shared_ptr<ServerState> state = open_state(config, std::move(broker_loop));
  if (!state) return 2;

  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;  // idle threads wait for work
  for (auto& t : threads) keep_running.push_back(net::make_work_guard(t->ioc));
  const auto stop_all = [&threads] {
    for (auto& t : threads) t->ioc.stop();
  };
  net::io_context& ioc = threads.front()->ioc;

  boost::system::error_code ec;
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(config.host, std::to_string(config.port), ec);
  if (ec || endpoints.empty()) {
    log_line(LogLevel::kError, "--host " + config.host + ": cannot resolve: " + ec.message());
    return 2;
  }
  auto listener = std::make_shared<Listener>(threads, state);
  if (std::string error = listener->listen(endpoints.begin()->endpoint()); !error.empty()) {
    log_line(LogLevel::kError, "cannot listen on " + config.host + ":" + std::to_string(config.port) + ": " + error);
    return 1;
  }
  listener->run();

  // The one line on stdout: scripts and tests parse the port from it.
  std::printf("tidewire-server listening on http://%s:%u (websocket path %s)\n", config.host.c_str(),
              static_cast<unsigned>(listener->port()), config.path.c_str());
  std::fflush(stdout);
  log(LogLevel::kInfo, "msg=\"listening\" port=", listener->port(), " threads=", config.threads,
      " max_message_bytes=", config.max_message_bytes, " heartbeat_ms=", config.heartbeat_ms,
      " history_store=", config.history_store, " history_size=", config.history_size, " broker=",
      config.broker == "memory" ? "memory" : "redis", " node_id=", config.node_id,
      state->static_files ? " static_dir=" + log_quoted(state->static_files->root()) : "");

  // Expired history is dropped (and channels with neither subscribers nor history), and the history store's
  // pending batch is committed: what no write to the network committed (publications nobody was sent, trims).
  PeriodicTask sweep(ioc, std::chrono::seconds(1), "sweep", [&state] {
    state->hub.sweep(wall_clock_ms());
    if (state->broker) state->broker->release_idle();
    if (state->history_store) state->history_store->sync();
    state->http_transport.sweep();  // HTTP sessions past --http-session-timeout-ms without a stream or poll
  });
  sweep.start();
  if (state->changefeed) state->changefeed->start();
  // Presence leave grace and typing expiry.
  PeriodicTask services_tick(ioc, std::chrono::milliseconds(250), "services tick",
                             [&state] { state->bridge.services().tick(); });
  services_tick.start();

  // Shutdown: stop accepting, close every session (1001), wait for them up to a deadline, then stop the loops.
  auto drain_deadline = std::chrono::steady_clock::time_point::max();
  const auto drained = [&] {
    return state->registry.size() == 0 || std::chrono::steady_clock::now() >= drain_deadline;
  };
  PeriodicTask drain(ioc, std::chrono::milliseconds(20), "shutdown drain", [&] {
    if (drained()) stop_all();
  });
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int signal_number) {
    if (e) return;
    guard("shutdown", [&] {
      log(LogLevel::kInfo, "msg=\"shutting down\" signal=", signal_number);
      listener->stop();
      sweep.stop();
      services_tick.stop();
      for (const auto& session : state->registry.snapshot()) session->stop();
      drain_deadline = std::chrono::steady_clock::now() + kDrainDeadline;
      if (drained()) return stop_all();
      drain.start();
      signals.async_wait([&](const boost::system::error_code& e2, int) {
        if (!e2) stop_all();  // a second signal: stop at once
      });
    }, stop_all);
  });

  std::vector<std::thread> workers;
  for (unsigned i = 1; i < config.threads; ++i) workers.emplace_back([&t = threads[i]->ioc] { run_loop(t); });
  run_loop(ioc);
  stop_all();
  for (auto& t : workers) t.join();
  state->bridge.stop_workers();  // here, not in a worker thread that happens to drop the last reference
  if (state->changefeed) state->changefeed->stop();
  if (state->broker) state->broker->stop();  // its connections may live on the first I/O thread's io_context
  log(LogLevel::kInfo, "msg=stopped");
  return 0;
}

}  // namespace tidewire::server

// The service workers (#16): the threads that run the chat_* and sync_* requests and the chat:<roomId> subscribe
// membership check, so that no database query ever runs on an I/O thread. The I/O thread posts a job and goes
// on; the job answers the connection itself (SessionSink::send is thread-safe) or posts a continuation back to
// the connection's I/O thread (SessionSink::post).
//
// Ordering: a strand per key hash. A job's key is the channel the request acts on: `chat:<roomId>` for chat
// requests naming a room and for the subscribe check, the `channel` of sync requests, and `user:<userId>` for
// chat requests naming no room (create, open_dm, list). Jobs with one key run one at a time, in the order they
// were posted, whichever connection or I/O thread posted them; jobs with different keys run in parallel (two
// keys may share a strand, which only serializes them). So:
// - one connection's requests on a room run in order (chat_join then subscribe chat:<id>, chat_send A then B);
// - every request on a room, from any connection of this node, is stored and then broadcast before the next one
//   starts, so the room's events leave this node in the order the database stored them (message ids grow with
//   the channel's offsets; sync versions never go back on the channel).
// A strand per connection would keep the first and lose the second: two connections writing one room would
// race between the store and the broadcast (message 6 could reach subscribers before message 5). What neither
// gives: requests of one connection on different rooms may be answered in either order (replies carry refs).
//
// SQLite: one thread (its stores are not thread-safe; the strands are then only an order). Postgres: one thread
// per pooled connection, so no job waits for a connection.
//
// Every job runs inside guard(): an exception is logged and the worker carries on.
//
// Zero threads runs each job at once on the posting thread (unit tests that drive the handler step by step).
#pragma once

#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace tidewire::server {

class ServiceWorkers {
 public:
  static constexpr unsigned kStrands = 64;

  explicit ServiceWorkers(unsigned threads);  // 0: inline (see above)
  ~ServiceWorkers();  // stop()
  ServiceWorkers(const ServiceWorkers&) = delete;
  ServiceWorkers& operator=(const ServiceWorkers&) = delete;

  // Runs `job` on a worker, after every job posted earlier with the same key. Any thread.
  void post(std::string_view key, std::function<void()> job);
  // Waits for the running jobs and drops the queued ones; later posts are dropped. Idempotent.
  void stop();

  unsigned threads() const { return threads_; }
  // The strand a key runs on (for tests).
  static std::size_t strand_of(std::string_view key);

 private:
  using Strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;
  unsigned threads_;
  std::unique_ptr<boost::asio::thread_pool> pool_;  // null: inline
  std::vector<Strand> strands_;
};

}  // namespace tidewire::server

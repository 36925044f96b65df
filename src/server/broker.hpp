// The Broker: where a channel's publications are ordered and kept (issue #15; docs in README "Running several
// nodes"). The Hub stays the per-node fan-out that encodes each message once; the broker decides offsets.
//
//   publish(request, done)  dedupe (from, client id) + epoch get-or-create + offset + history append, then
//                           `done(outcome)` once the broker has confirmed: the ack is sent from there, never
//                           before. Memory: synchronous, inside the hub's channel lock, before the fan-out (the
//                           sender's ack precedes its own copy). Redis: one Lua script (EVALSHA) on the broker
//                           thread; `done` runs there, and the copies come back through PUB/SUB like every other
//                           node's. outcome.error = wire::error::kUnavailable when the broker cannot be reached.
//                           #16's Postgres change feed publishes through the same call and advances its slot
//                           only in `done`.
//   join(channel, add, resume)
//                           the hub's copy of the channel must be current before a subscriber joins it (Redis:
//                           SUBSCRIBE its PUB/SUB channel, then read epoch, last offset and history with XRANGE),
//                           so that recovery answers from it and no publication falls between the two. When it
//                           is, join() runs `add` (the hub subscribe with recovery) at once, under the broker's
//                           lock (the channel cannot be released meanwhile), and returns true. Else it returns
//                           false without running `add`, starts making the copy current and calls `resume(ok)`
//                           once, later (from the broker's thread) or from within the call: ok, ask again (the
//                           copy is current now); not ok, unavailable (Redis unreachable, or no answer within
//                           RedisBroker::kJoinTimeout). It never blocks. The handler parks the subscribe in
//                           ConnectionProtocolState::pending_subscribes meanwhile (later requests on the channel
//                           wait behind it) and resumes it on the connection's thread (SessionSink::post), the
//                           same path as the chat: membership check. Memory: always current, always true.
//                           A node listens to a channel only while it has local subscribers: release_idle()
//                           (the 1 s sweep) UNSUBSCRIBEs the others.
//   gaps / backfill         an offset jump on PUB/SUB, a PUB/SUB reconnect or a new epoch re-reads the stream
//                           from the hub's last offset: once per node, whatever its number of subscribers. The
//                           hub fans the missed entries out in order (Hub::apply_remote).
//   healthy()               false while the broker connection is down (/healthz 503).
//
// Threads: publish and join may be called from any I/O thread and never block it. The Redis broker runs its two
// hiredis connections (commands, PUB/SUB) on one io_context: with --threads 1 (the default) the I/O thread's own,
// so a PUB/SUB message is fanned out by the thread that writes the sockets, with no hand-off; with more I/O
// threads a thread of its own (broker_redis.hpp says why). stop() closes them before the I/O threads'
// io_contexts go away.
//
// Beside it: the PresenceStore (presence_store.hpp; Redis: presence_store_redis.hpp, which also holds the
// per-user connection cap across nodes; its presence diffs share the channel's PUB/SUB channel, see
// RedisBrokerOptions::on_presence). #16's ChatStore and SyncStore on Postgres (--database) run on the service
// workers (service_workers.hpp), never on an I/O thread, answering from there; --broker redis refuses the per-node
// SQLite stores unless --database is given. The change feed (changefeed.hpp) publishes through publish().
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "server/hub.hpp"

namespace tidewire::server {

struct PublishOutcome {
  std::uint64_t offset = 0;     // 0 with an error
  bool duplicate = false;       // the client id was seen: nothing was broadcast, offset is the original
  std::string_view error;       // "" or a wire::error code (kUnavailable, kInternal)
};

class Broker {
 public:
  using Done = std::function<void(const PublishOutcome&)>;
  using Resume = std::function<void(bool ok)>;
  virtual ~Broker() = default;
  virtual void publish(const PublishRequest& request, Done done) = 0;
  virtual bool join(std::string_view channel, const std::function<void()>& add, Resume resume) = 0;
  // join() for a caller that does not wait: true when `add` ran; false when the copy was not current (it is being
  // made current: ask again later) or the broker is unreachable.
  bool join(std::string_view channel, const std::function<void()>& add) {
    return join(channel, add, [](bool) {});
  }
  virtual void release_idle() {}
  virtual bool healthy() const { return true; }
  // Closes the broker's connections (server shutdown, after the threads that call it stopped). Later calls answer
  // unavailable.
  virtual void stop() {}
};

// Today's single-node behaviour: the hub is the broker (history, dedupe, offsets in process).
class MemoryBroker final : public Broker {
 public:
  explicit MemoryBroker(Hub& hub) : hub_(hub) {}
  using Broker::join;
  void publish(const PublishRequest& request, Done done) override;
  bool join(std::string_view, const std::function<void()>& add, Resume) override {
    add();
    return true;
  }

 private:
  Hub& hub_;
};

}  // namespace tidewire::server

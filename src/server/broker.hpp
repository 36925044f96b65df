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
//   join(channel, add)      makes the local hub's copy of the channel current (Redis: SUBSCRIBE its PUB/SUB
//                           channel, then read epoch, last offset and history with XRANGE), then runs `add` (the
//                           hub subscribe with recovery from that copy) so no publication falls between the
//                           two. false: unavailable. A node listens to a channel only while it has local
//                           subscribers: release_idle() (the 1 s sweep) UNSUBSCRIBEs the others.
//   gaps / backfill         an offset jump on PUB/SUB, a PUB/SUB reconnect or a new epoch re-reads the stream
//                           from the hub's last offset: once per node, whatever its number of subscribers. The
//                           hub fans the missed entries out in order (Hub::apply_remote).
//   healthy()               false while the broker connection is down (/healthz 503).
//
// Threads: publish and join may be called from any I/O thread. The Redis broker runs its two hiredis
// connections (commands, PUB/SUB) on its own io_context thread (redis_connection.hpp); join() blocks its caller
// for one round trip, the first time a node gets a subscriber for a channel.
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
  virtual ~Broker() = default;
  virtual void publish(const PublishRequest& request, Done done) = 0;
  virtual bool join(std::string_view channel, const std::function<void()>& add) = 0;
  virtual void release_idle() {}
  virtual bool healthy() const { return true; }
};

// Today's single-node behaviour: the hub is the broker (history, dedupe, offsets in process).
class MemoryBroker final : public Broker {
 public:
  explicit MemoryBroker(Hub& hub) : hub_(hub) {}
  void publish(const PublishRequest& request, Done done) override;
  bool join(std::string_view, const std::function<void()>& add) override {
    add();
    return true;
  }

 private:
  Hub& hub_;
};

}  // namespace tidewire::server

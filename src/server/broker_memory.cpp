#include "protocol/wire.hpp"
#include "server/broker.hpp"

namespace tidewire::server {

void MemoryBroker::publish(const PublishRequest& request, Done done) {
  const PublishResult r = hub_.publish_once(request, [&](std::uint64_t offset, bool duplicate) {
    done(PublishOutcome{offset, duplicate, {}});
  });
  if (r.offset == 0) done(PublishOutcome{0, false, wire::error::kInternal});
}

}  // namespace tidewire::server

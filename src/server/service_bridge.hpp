// Connects the presence, chat and sync Services (services.hpp) to the message handler and the hub:
// - the handler's unknown types presence_* / chat_* / sync_* go to Services::handle(): presence_* at once on the
//   I/O thread with a ConnectionContext over the connection; chat_* and sync_* (database queries) on the service
//   workers (service_workers.hpp: ordering per room/channel), with a SnapshotContext of what the request needs
//   taken at dispatch, answering the connection from the worker;
// - `chat:<roomId>` subscriptions ask Services::may_subscribe() on the workers too (the handler's asynchronous
//   membership hook; the subscribe continues on the connection's I/O thread);
// - unsubscribes and disconnects reach Services (presence leaves with grace);
// - Services' broadcasts: publish() through the handler's broker (offsets, epoch, history; with Redis, every
//   node's subscribers get them); send_raw() to this node's hub, without.
// The owner drives Services::tick() with a timer (typing expiry, presence leave grace).
#pragma once

#include <functional>
#include <memory>

#include "server/hub.hpp"
#include "server/message_handler.hpp"
#include "server/service_workers.hpp"
#include "server/services.hpp"

namespace tidewire::server {

class ServiceBridge : public Broadcaster {
 public:
  using Clock = std::function<std::uint64_t()>;

  // Creates Services on `config` and installs the hooks into `handler` (call before serving).
  ServiceBridge(Hub& hub, MessageHandler& handler, ServicesConfig config, Clock clock);

  Services& services() { return *services_; }
  // Waits for the running chat/sync jobs and drops the queued ones (server shutdown, after the I/O threads
  // stopped).
  void stop_workers() { workers_->stop(); }

  // Broadcaster
  void publish(std::string_view channel, std::string_view event, std::string_view from,
               const nlohmann::json& payload) override;
  void send_raw(std::string_view channel, std::string_view message_json) override;
  void end_subscriptions(std::string_view channel, std::string_view user, std::string_view reason,
                         std::string_view message) override;

 private:
  Hub& hub_;
  MessageHandler& handler_;
  Clock clock_;
  std::unique_ptr<Services> services_;
  std::unique_ptr<ServiceWorkers> workers_;  // after services_: destroyed (joined) first
};

}  // namespace tidewire::server

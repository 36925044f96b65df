// Connects the presence, chat and sync Services (services.hpp) to the message handler and the hub:
// - the handler's unknown types presence_* / chat_* / sync_* go to Services::handle() with a ServiceContext
//   over the connection (reply, error, subscription check, user id);
// - `chat:<roomId>` subscriptions ask Services::may_subscribe();
// - unsubscribes and disconnects reach Services (presence leaves with grace);
// - Services' broadcasts: publish() through the handler's broker (offsets, epoch, history; with Redis, every
//   node's subscribers get them); send_raw() to this node's hub, without.
// The owner drives Services::tick() with a timer (typing expiry, presence leave grace).
#pragma once

#include <functional>
#include <memory>

#include "server/hub.hpp"
#include "server/message_handler.hpp"
#include "server/services.hpp"

namespace tidewire::server {

class ServiceBridge : public Broadcaster {
 public:
  using Clock = std::function<std::uint64_t()>;

  // Creates Services on `config` and installs the hooks into `handler` (call before serving).
  ServiceBridge(Hub& hub, MessageHandler& handler, ServicesConfig config, Clock clock);

  Services& services() { return *services_; }

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
};

}  // namespace tidewire::server

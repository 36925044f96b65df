#include "server/channel_access.hpp"

namespace tidewire::server {

bool channel_matches(std::string_view pattern, std::string_view channel) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return channel.substr(0, pattern.size()) == pattern;
  }
  return pattern == channel;
}

std::string check_channel_access(std::string_view user, const ChannelGrant& grant, std::string_view channel,
                                 const ChatMembership& chat_membership) {
  constexpr std::string_view kUser = "user:";
  if (channel.substr(0, kUser.size()) == kUser) {
    std::string_view owner = channel.substr(kUser.size());
    owner = owner.substr(0, owner.find(':'));
    if (owner != user) return "user:<id> channels are private to that user";
  }
  if (grant.restricted) {
    bool allowed = false;
    for (const std::string& p : grant.patterns)
      if (channel_matches(p, channel)) {
        allowed = true;
        break;
      }
    if (!allowed) return "the token's channels claim does not allow this channel";
  }
  constexpr std::string_view kChat = "chat:";
  if (channel.substr(0, kChat.size()) == kChat && chat_membership &&
      !chat_membership(user, channel.substr(kChat.size())))
    return "only participants of the chat room may use its channel";
  return {};
}

}  // namespace tidewire::server

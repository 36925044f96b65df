// Who may use which channel, from the token's claims (docs/PROTOCOL.md section 3.1):
// - `user:<id>` (and `user:<id>:...`) channels are private to that user, whatever the claims;
// - when the token has a `channels` claim (patterns, `*` as a suffix wildcard: "room:*"), only matching
//   channels may be subscribed or published to;
// - `chat:<roomId>` channels belong to the chat service: it decides membership (a hook, allowed when unset).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tidewire::server {

// True when `channel` matches `pattern`: equal, or `pattern` ends with '*' and `channel` starts with the rest.
bool channel_matches(std::string_view pattern, std::string_view channel);

struct ChannelGrant {
  bool restricted = false;                // the token had a `channels` claim
  std::vector<std::string> patterns;      // used when restricted
};

// Chat membership: may `user` use `chat:<room_id>`? Unset: allowed.
using ChatMembership = std::function<bool(std::string_view user, std::string_view room_id)>;

// Empty when allowed, else the reason for a `forbidden` error.
std::string check_channel_access(std::string_view user, const ChannelGrant& grant, std::string_view channel,
                                 const ChatMembership& chat_membership);

}  // namespace tidewire::server

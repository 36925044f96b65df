// The fields of a control message (auth_success, auth_refreshed, subscribed, unsubscribed, error) the engine
// reads, parsed with nlohmann/json's SAX parser. The per-message path keeps the envelope scanner
// (src/protocol/envelope.*): nlohmann measured about 9 us per message in wasm. SAX rather than a DOM: the engine
// needs a handful of top-level fields, and the DOM's code costs the plain bundle 6 KB more gzipped.
#pragma once

#include <string>
#include <string_view>

namespace tidewire::client {

struct ControlMessage {
  std::string message;        // error, unsubscribed
  std::string reason;         // subscribed (a gap's reason), unsubscribed
  std::string epoch;          // subscribed
  std::string connection_id;  // auth_success
  std::string user_id;        // auth_success
  double offset = 0;          // subscribed
  double expires_at = 0;      // auth_success, auth_refreshed (0: absent)
  double version = 0;         // auth_success (0: absent)
  bool recovered = false;     // subscribed
  bool has_message = false;
  bool has_reason = false;
};

// False when `line` is not a JSON object (top-level fields of other kinds than expected are ignored).
bool read_control_message(std::string_view line, ControlMessage& out);

}  // namespace tidewire::client

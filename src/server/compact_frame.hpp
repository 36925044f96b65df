// A channel message's frame carries its protocol v2 record head (docs/PROTOCOL.md section 13.1) beside the JSON
// line, so the hub encodes both once per channel and no connection re-encodes anything.
//
// The head rides in the shared_ptr's deleter: the frame is still the JSON line (every v1 connection, the history,
// the tests read it as before), and a v2 connection's write loop finds the head with std::get_deleter. A frame
// made anywhere else (control messages, services' raw sends) has none and goes out as a 'j' record.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace tidewire::server {

// `line`: a channel_message's JSON text, whose payload (`payload_bytes` bytes) comes last, before the closing
// brace (protocol::encode_broadcast). `head`: protocol::encode_compact_head of the same message.
std::shared_ptr<const std::string> make_compact_frame(std::string line, std::string head, std::size_t payload_bytes);

// Appends `frame` to a compact batch: its 'm' record when it has a head, else a 'j' record of its text.
void append_compact_record(std::string& out, const std::shared_ptr<const std::string>& frame);

}  // namespace tidewire::server

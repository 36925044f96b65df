// Binary WebSocket frames (docs/PROTOCOL.md section 13): a kind byte, then `str8` fields (one length byte +
// UTF-8 bytes), little-endian integers, and the payload as the rest of the frame.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidewire::protocol {

enum class BinaryKind : std::uint8_t {
  kJsonBatch = 0x00,       // the rest is what a text frame would carry
  kChannelMessage = 0x01,  // a binary channel message
  kCompactBatch = 0x02,    // protocol v2: records with binary headers (compact_batch.hpp)
};

struct BinaryPublish {  // client -> server
  std::string_view channel, event, ref, id, payload;
};

struct BinaryBroadcast {  // server -> client
  std::string_view channel, event;
  std::uint64_t offset = 0;
  std::uint64_t ts_ms = 0;
  std::string_view from, epoch, payload;
};

// Encoders return false when a str8 field is longer than 255 bytes (nothing is appended then).
bool encode_binary_publish(std::string& out, const BinaryPublish& m);
bool encode_binary_broadcast(std::string& out, const BinaryBroadcast& m);

// Decoders return false on a truncated or wrong-kind frame. Views point into `frame`.
bool decode_binary_publish(std::string_view frame, BinaryPublish& out);
bool decode_binary_broadcast(std::string_view frame, BinaryBroadcast& out);

}  // namespace tidewire::protocol

// Protocol v2 compact batches (docs/PROTOCOL.md section 13.1): binary frames of kind 0x02 holding records, each
// a channel message with a small binary header ('m') or one JSON message as a text frame would carry it ('j').
//
// Every byte outside the strings and payloads is ASCII (integers are "a7" varints: 6 bits a byte, 0x40 = more
// follows), so the whole frame is valid UTF-8 and each header byte is one UTF-16 unit. Records carry the UTF-16
// length of their body: a reader knows where each payload and sender starts in the frame decoded once as text,
// without decoding or scanning them (the JS client slices one string per frame).
//
// The server encodes a channel message's record once per channel (encode_compact_head + the payload's bytes);
// nothing in it depends on the connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidewire::protocol {

namespace compact {
constexpr char kMessage = 'm';  // a channel message
constexpr char kJson = 'j';     // one JSON message (control messages, anything else)
}  // namespace compact

struct CompactMessage {
  std::string_view channel, event, epoch;
  std::uint64_t offset = 0;
  std::uint64_t ts_ms = 0;
  std::string_view from, payload;  // payload: JSON text
  std::uint32_t from_units = 0;    // UTF-16 lengths (decoded only; the encoder computes them)
  std::uint32_t payload_units = 0;
};

// UTF-16 code units of valid UTF-8 text (4-byte sequences count 2).
std::uint32_t utf16_units(std::string_view utf8);

// Appends an 'm' record without its payload bytes, which the caller appends right after (m.payload says their
// length and UTF-16 units). False (nothing appended) when a string is over 65,535 bytes.
bool encode_compact_head(std::string& out, const CompactMessage& m);
// Head and payload.
bool encode_compact_message(std::string& out, const CompactMessage& m);
// Appends a 'j' record carrying `json`.
void encode_compact_json(std::string& out, std::string_view json);

struct CompactRecord {
  char tag = 0;
  std::string_view json;  // 'j'
  CompactMessage message; // 'm': views into the frame
  // UTF-16 index (in the whole frame decoded as UTF-8, kind byte included) of the payload's start; the sender
  // starts from_units before it.
  std::uint64_t payload_index = 0;
};

// Reads the records of one frame (kind byte included), in order.
class CompactReader {
 public:
  enum class Status { kRecord, kEnd, kMalformed };
  explicit CompactReader(std::string_view frame);
  Status next(CompactRecord& out);

 private:
  std::string_view in_;
  std::size_t pos_ = 1;  // after the kind byte
  std::uint64_t units_ = 1;
};

}  // namespace tidewire::protocol

#include "protocol/compact_batch.hpp"

namespace tidewire::protocol {
namespace {

constexpr std::size_t kMaxString = 65535;

void put_a7(std::string& out, std::uint64_t v) {
  while (v >= 0x40) {
    out.push_back(static_cast<char>(0x40 | (v & 0x3f)));
    v >>= 6;
  }
  out.push_back(static_cast<char>(v));
}

std::size_t a7_size(std::uint64_t v) {
  std::size_t n = 1;
  for (; v >= 0x40; v >>= 6) ++n;
  return n;
}

bool get_a7(std::string_view in, std::size_t& pos, std::uint64_t& out) {
  out = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(in.data());  // no operator[] call under -Oz
  for (unsigned shift = 0; pos < in.size() && shift < 64; shift += 6) {
    const unsigned char b = bytes[pos++];
    if (b & 0x80) return false;
    out |= static_cast<std::uint64_t>(b & 0x3f) << shift;
    if (!(b & 0x40)) return true;
  }
  return false;
}

bool get_str(std::string_view in, std::size_t& pos, std::string_view& out) {
  std::uint64_t n = 0;
  if (!get_a7(in, pos, n) || n > in.size() - pos) return false;
  out = std::string_view(in.data() + pos, static_cast<std::size_t>(n));
  pos += static_cast<std::size_t>(n);
  return true;
}

void put_str(std::string& out, std::string_view s) {
  put_a7(out, s.size());
  out.append(s);
}

}  // namespace

std::uint32_t utf16_units(std::string_view utf8) {
  std::uint32_t n = 0;
  for (char c : utf8) {
    const auto b = static_cast<unsigned char>(c);
    n += ((b & 0xc0) != 0x80) + (b >= 0xf0);
  }
  return n;
}

bool encode_compact_head(std::string& out, const CompactMessage& m) {
  if (m.channel.size() > kMaxString || m.event.size() > kMaxString || m.epoch.size() > kMaxString ||
      m.from.size() > kMaxString) {
    return false;
  }
  const std::uint32_t from_units = utf16_units(m.from), payload_units = utf16_units(m.payload);
  std::string head;  // the body up to the sender's bytes
  put_str(head, m.channel);
  put_str(head, m.event);
  put_str(head, m.epoch);
  put_a7(head, m.offset);
  put_a7(head, m.ts_ms);
  put_a7(head, m.from.size());
  put_a7(head, from_units);
  put_a7(head, payload_units);
  const std::uint64_t body_bytes = head.size() + m.from.size() + m.payload.size();
  const std::uint64_t body_units = head.size() - m.channel.size() - m.event.size() - m.epoch.size() +
                                   utf16_units(m.channel) + utf16_units(m.event) + utf16_units(m.epoch) +
                                   from_units + payload_units;
  out.reserve(out.size() + 1 + a7_size(body_bytes) + a7_size(body_units) + head.size() + m.from.size());
  out.push_back(compact::kMessage);
  put_a7(out, body_bytes);
  put_a7(out, body_units);
  out.append(head);
  out.append(m.from);
  return true;
}

bool encode_compact_message(std::string& out, const CompactMessage& m) {
  if (!encode_compact_head(out, m)) return false;
  out.append(m.payload);
  return true;
}

void encode_compact_json(std::string& out, std::string_view json) {
  out.push_back(compact::kJson);
  put_a7(out, json.size());
  put_a7(out, utf16_units(json));
  out.append(json);
}

CompactReader::CompactReader(std::string_view frame) : in_(frame) {}

CompactReader::Status CompactReader::next(CompactRecord& out) {
  if (pos_ >= in_.size()) return Status::kEnd;
  const std::size_t start = pos_;
  const char tag = in_[pos_++];
  std::uint64_t body_bytes = 0, body_units = 0;
  if (!get_a7(in_, pos_, body_bytes) || !get_a7(in_, pos_, body_units) || body_bytes > in_.size() - pos_ ||
      body_units > body_bytes) {
    return Status::kMalformed;
  }
  const std::string_view body = in_.substr(pos_, static_cast<std::size_t>(body_bytes));
  units_ += (pos_ - start) + body_units;
  pos_ += body.size();
  out.tag = tag;
  if (tag == compact::kJson) {
    out.json = body;
    return Status::kRecord;
  }
  if (tag != compact::kMessage) return Status::kMalformed;
  CompactMessage& m = out.message;
  std::size_t p = 0;
  std::uint64_t from_bytes = 0, from_units = 0, payload_units = 0;
  if (!get_str(body, p, m.channel) || !get_str(body, p, m.event) || !get_str(body, p, m.epoch) ||
      !get_a7(body, p, m.offset) || !get_a7(body, p, m.ts_ms) || !get_a7(body, p, from_bytes) ||
      !get_a7(body, p, from_units) || !get_a7(body, p, payload_units) || from_bytes > body.size() - p ||
      from_units > from_bytes || payload_units > body.size() - p - from_bytes ||
      from_units + payload_units > body_units) {
    return Status::kMalformed;
  }
  m.from = body.substr(p, static_cast<std::size_t>(from_bytes));
  m.payload = body.substr(p + static_cast<std::size_t>(from_bytes));
  m.from_units = static_cast<std::uint32_t>(from_units);
  m.payload_units = static_cast<std::uint32_t>(payload_units);
  out.payload_index = units_ - payload_units;
  return Status::kRecord;
}

}  // namespace tidewire::protocol

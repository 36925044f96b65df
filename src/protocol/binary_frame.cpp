#include "protocol/binary_frame.hpp"

namespace tidewire::protocol {
namespace {

bool put_str8(std::string& out, std::string_view s) {
  if (s.size() > 255) return false;
  out.push_back(static_cast<char>(s.size()));
  out.append(s);
  return true;
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

struct Reader {
  std::string_view in;
  std::size_t pos = 0;
  bool str8(std::string_view& out) {
    if (pos >= in.size()) return false;
    const std::size_t n = static_cast<unsigned char>(in[pos++]);
    if (in.size() - pos < n) return false;
    out = in.substr(pos, n);
    pos += n;
    return true;
  }
  bool u64(std::uint64_t& out) {
    if (in.size() - pos < 8) return false;
    out = 0;
    for (int i = 7; i >= 0; --i) out = (out << 8) | static_cast<unsigned char>(in[pos + static_cast<std::size_t>(i)]);
    pos += 8;
    return true;
  }
  std::string_view rest() const { return in.substr(pos); }
};

}  // namespace

bool encode_binary_publish(std::string& out, const BinaryPublish& m) {
  std::string buf;
  buf.reserve(8 + m.channel.size() + m.event.size() + m.ref.size() + m.id.size() + m.payload.size());
  buf.push_back(static_cast<char>(BinaryKind::kChannelMessage));
  if (!put_str8(buf, m.channel) || !put_str8(buf, m.event) || !put_str8(buf, m.ref) || !put_str8(buf, m.id)) {
    return false;
  }
  buf.append(m.payload);
  out.append(buf);
  return true;
}

bool encode_binary_broadcast(std::string& out, const BinaryBroadcast& m) {
  std::string buf;
  buf.reserve(24 + m.channel.size() + m.event.size() + m.from.size() + m.epoch.size() + m.payload.size());
  buf.push_back(static_cast<char>(BinaryKind::kChannelMessage));
  if (!put_str8(buf, m.channel) || !put_str8(buf, m.event)) return false;
  put_u64(buf, m.offset);
  put_u64(buf, m.ts_ms);
  if (!put_str8(buf, m.from) || !put_str8(buf, m.epoch)) return false;
  buf.append(m.payload);
  out.append(buf);
  return true;
}

bool decode_binary_publish(std::string_view frame, BinaryPublish& out) {
  if (frame.empty() || static_cast<std::uint8_t>(frame[0]) != static_cast<std::uint8_t>(BinaryKind::kChannelMessage)) {
    return false;
  }
  Reader r{frame, 1};
  if (!r.str8(out.channel) || !r.str8(out.event) || !r.str8(out.ref) || !r.str8(out.id)) return false;
  out.payload = r.rest();
  return true;
}

bool decode_binary_broadcast(std::string_view frame, BinaryBroadcast& out) {
  if (frame.empty() || static_cast<std::uint8_t>(frame[0]) != static_cast<std::uint8_t>(BinaryKind::kChannelMessage)) {
    return false;
  }
  Reader r{frame, 1};
  if (!r.str8(out.channel) || !r.str8(out.event) || !r.u64(out.offset) || !r.u64(out.ts_ms) || !r.str8(out.from) ||
      !r.str8(out.epoch)) {
    return false;
  }
  out.payload = r.rest();
  return true;
}

}  // namespace tidewire::protocol

// Fuzzes the protocol v2 compact batch reader: it must never read out of bounds, every view it returns must lie
// inside the frame, and the UTF-16 positions it reports must not pass the frame's length in units.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "check_inside.hpp"

#include "protocol/compact_batch.hpp"

using tidewire::fuzz::check_inside;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;
  tidewire::protocol::CompactReader reader(in);
  tidewire::protocol::CompactRecord r;
  while (reader.next(r) == tidewire::protocol::CompactReader::Status::kRecord) {
    if (r.tag == tidewire::protocol::compact::kJson) {
      check_inside(in, r.json);
      continue;
    }
    const auto& m = r.message;
    for (auto v : {m.channel, m.event, m.epoch, m.from, m.payload}) check_inside(in, v);
    if (m.from_units > m.from.size() || m.payload_units > m.payload.size()) std::abort();
    if (r.payload_index + m.payload_units > in.size() || r.payload_index < m.from_units) std::abort();
  }
  return 0;
}

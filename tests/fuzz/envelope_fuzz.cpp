// Fuzzes the zero-allocation envelope scanner: it must never read out of bounds, and every view it returns
// must lie inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "check_inside.hpp"

#include "protocol/envelope.hpp"

using tidewire::fuzz::check_inside;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  tidewire::protocol::for_each_message(in, [&](std::string_view line) {
    tidewire::protocol::Envelope e;
    if (tidewire::protocol::scan_envelope(line, e) == tidewire::protocol::ScanStatus::kOk) {
      for (auto v : {e.type, e.channel, e.event, e.ref, e.from, e.code, e.payload}) check_inside(line, v);
    }
  });
  return 0;
}

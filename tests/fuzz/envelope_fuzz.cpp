// Fuzzes the zero-allocation envelope scanner: it must never read out of bounds, and every view it returns
// must lie inside the input. Also fuzzes the client's JSON DOM on the same bytes: whatever JsonValue accepts,
// it dumps to JSON it accepts again and dumps identically (parse -> dump -> parse -> dump).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/envelope.hpp"
#include "protocol/json_value.hpp"

namespace {
void check_inside(std::string_view in, std::string_view v) {
  if (v.empty()) return;
  if (v.data() < in.data() || v.data() + v.size() > in.data() + in.size()) std::abort();
}

void check_json_round_trip(std::string_view text) {
  tidewire::protocol::JsonValue first, second;
  if (!tidewire::protocol::JsonValue::parse(text, first)) return;
  const std::string dumped = first.dump();
  if (!tidewire::protocol::JsonValue::parse(dumped, second)) std::abort();
  if (second.dump() != dumped) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_json_round_trip(in);
  tidewire::protocol::for_each_message(in, [&](std::string_view line) {
    check_json_round_trip(line);
    tidewire::protocol::Envelope e;
    if (tidewire::protocol::scan_envelope(line, e) == tidewire::protocol::ScanStatus::kOk) {
      for (auto v : {e.type, e.channel, e.event, e.ref, e.from, e.code, e.payload}) check_inside(line, v);
    }
  });
  return 0;
}

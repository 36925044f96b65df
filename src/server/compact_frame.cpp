#include "server/compact_frame.hpp"

#include "protocol/compact_batch.hpp"

namespace tidewire::server {
namespace {

struct CompactHead {
  std::string head;
  std::size_t payload_bytes = 0;
  void operator()(const std::string* line) const noexcept { delete line; }
};

}  // namespace

std::shared_ptr<const std::string> make_compact_frame(std::string line, std::string head, std::size_t payload_bytes) {
  return std::shared_ptr<const std::string>(new std::string(std::move(line)),
                                            CompactHead{std::move(head), payload_bytes});
}

void append_compact_record(std::string& out, const std::shared_ptr<const std::string>& frame) {
  const std::string& line = *frame;
  const CompactHead* compact = std::get_deleter<CompactHead>(frame);
  if (compact == nullptr || compact->payload_bytes + 1 > line.size()) {
    protocol::encode_compact_json(out, line);
    return;
  }
  out.append(compact->head);
  out.append(line, line.size() - 1 - compact->payload_bytes, compact->payload_bytes);
}

}  // namespace tidewire::server

#include "server/outbound_queue.hpp"

#include "protocol/binary_frame.hpp"
#include "server/compact_frame.hpp"

namespace tidewire::server {

OutboundQueue::Push OutboundQueue::push(SharedFrame message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return Push::kClosed;
  if (queue_.size() + 1 > max_messages_ || queued_bytes_ + message->size() > max_bytes_) {
    closed_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    return Push::kOverflow;
  }
  queued_bytes_ += message->size();
  queue_.push_back(std::move(message));
  if (writing_) return Push::kQueued;
  writing_ = true;
  return Push::kStartWrite;
}

bool OutboundQueue::take_batch(std::string& out) {
  bool binary = false;
  return take_batch(out, binary, false);
}

namespace {
bool is_binary_frame(const SharedFrame& f) { return !f->empty() && static_cast<unsigned char>((*f)[0]) == 0x01; }
}  // namespace

bool OutboundQueue::take_batch(std::string& out, bool& binary) { return take_batch(out, binary, false); }

bool OutboundQueue::take_batch(std::string& out, bool& binary, bool compact) {
  out.clear();
  binary = false;
  std::lock_guard<std::mutex> lock(mutex_);
  if (queue_.empty()) {
    writing_ = false;
    return false;
  }
  if (is_binary_frame(queue_.front())) {
    binary = true;
    out = *queue_.front();
    queued_bytes_ -= queue_.front()->size();
    queue_.pop_front();
    return true;
  }
  std::size_t count = 0;
  if (compact) out.push_back(static_cast<char>(protocol::BinaryKind::kCompactBatch));
  while (!queue_.empty() && count < kMaxBatchMessages && !is_binary_frame(queue_.front()) &&
         (count == 0 || out.size() + 1 + queue_.front()->size() <= kMaxBatchBytes)) {
    if (compact) {
      append_compact_record(out, queue_.front());
    } else {
      if (count > 0) out.push_back('\n');
      out += *queue_.front();
    }
    queued_bytes_ -= queue_.front()->size();
    queue_.pop_front();
    ++count;
  }
  return true;
}

void OutboundQueue::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  queue_.clear();
  queued_bytes_ = 0;
}

std::size_t OutboundQueue::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

}  // namespace tidewire::server

// Test doubles for the client engine: a virtual clock, a recording transport, a recording listener.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/clock.hpp"
#include "client/engine_listener.hpp"
#include "client/random_source.hpp"
#include "client/transport.hpp"

namespace tidewire::testing {

class VirtualClock final : public client::Clock {
 public:
  double now_ms() const override { return now_; }
  double wall_ms() const override { return 1.7e12 + now_ + wall_offset_; }
  void advance(double ms) { now_ += ms; }
  // The machine slept: the wall clock moves, the monotonic clock does not.
  void sleep(double ms) { wall_offset_ += ms; }
  double now_ = 1000;
  double wall_offset_ = 0;
};

class FixedRandom final : public client::RandomSource {
 public:
  explicit FixedRandom(double v) : value(v) {}
  double next_unit() override { return value; }
  double value;
};

struct OpenCall {
  client::SocketId id;
  std::string url;
  std::vector<std::string> protocols;
};

class FakeTransport final : public client::Transport {
 public:
  client::SocketId open(const std::string& url, const std::vector<std::string>& protocols) override {
    if (fail_open) return 0;
    const client::SocketId id = next_id++;
    opens.push_back({id, url, protocols});
    open_ids.push_back(id);
    return id;
  }
  bool send_text(client::SocketId id, std::string_view data) override {
    if (id != current() || refuse_sends) return false;
    sent.emplace_back(data);
    return true;
  }
  bool send_binary(client::SocketId id, std::string_view data) override {
    if (id != current() || refuse_sends) return false;
    sent_binary.emplace_back(data);
    return true;
  }
  void close(client::SocketId id, std::uint16_t code, std::string_view reason) override {
    closes.push_back({id, code, std::string(reason)});
  }
  client::SocketId current() const { return opens.empty() ? 0 : opens.back().id; }

  struct CloseCall {
    client::SocketId id;
    std::uint16_t code;
    std::string reason;
  };
  std::vector<OpenCall> opens;
  std::vector<client::SocketId> open_ids;
  std::vector<std::string> sent;
  std::vector<std::string> sent_binary;
  std::vector<CloseCall> closes;
  client::SocketId next_id = 1;
  bool fail_open = false;
  bool refuse_sends = false;
};

struct Received {
  std::uint32_t channel_id;
  std::string event;
  std::string payload;
  std::uint64_t offset;
};

struct Ack {
  std::uint32_t ref;
  bool ok;
  std::uint64_t offset;
  std::string code;
};

class RecordingListener final : public client::EngineListener {
 public:
  void on_state(client::ConnectionState from, client::ConnectionState to, std::string_view reason) override {
    transitions.push_back({from, to, std::string(reason)});
  }
  void on_event_name(std::uint32_t id, std::string_view name) override {
    if (event_names.size() < id + 1) event_names.resize(id + 1);
    event_names[id] = std::string(name);
  }
  void on_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload,
                  const client::MessageMeta& meta) override {
    messages.push_back({channel_id, event_names.at(event_id), std::string(payload), meta.offset});
  }
  void on_compact_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view payload,
                          const client::MessageMeta& meta, const client::CompactSpan& span) override {
    spans.push_back(span);
    on_message(channel_id, event_id, payload, meta);
  }
  void on_binary_message(std::uint32_t channel_id, std::uint32_t event_id, std::string_view bytes,
                         const client::MessageMeta& meta) override {
    binaries.push_back({channel_id, event_names.at(event_id), std::string(bytes), meta.offset});
  }
  void on_gap(std::uint32_t channel_id, std::string_view reason) override {
    gaps.push_back({channel_id, std::string(reason)});
  }
  void on_ack(std::uint32_t ref, bool ok, std::uint64_t offset, std::string_view code, std::string_view,
              std::string_view) override {
    acks.push_back({ref, ok, offset, std::string(code)});
    messages_before_ack.push_back(messages.size());
  }
  void on_reply(std::uint32_t ref, bool ok, std::string_view data, std::string_view code, std::string_view) override {
    replies.push_back({ref, ok, std::string(data), std::string(code)});
  }
  void on_subscribed(std::uint32_t channel_id) override { subscribed.push_back(channel_id); }
  void on_presence_diff(std::uint32_t channel_id, std::string_view diff) override {
    presence_diffs.push_back({channel_id, std::string(diff)});
  }
  void on_unsubscribed(std::uint32_t channel_id, std::string_view code, std::string_view message) override {
    unsubscribed.push_back({channel_id, std::string(code), std::string(message)});
  }
  void on_error(std::string_view code, std::string_view message) override {
    errors.emplace_back(code);
    error_messages.emplace_back(message);
  }
  void on_token_request() override { ++token_requests; }
  void on_url_request() override { ++url_requests; }

  struct Transition {
    client::ConnectionState from, to;
    std::string reason;
  };
  std::vector<Transition> transitions;
  std::vector<std::string> event_names;
  std::vector<Received> messages;
  std::vector<Received> binaries;
  std::vector<std::pair<std::uint32_t, std::string>> gaps;
  std::vector<Ack> acks;
  std::vector<std::size_t> messages_before_ack;  // messages.size() when each ack arrived (ordering)
  std::vector<client::CompactSpan> spans;        // of on_compact_message (frame views are dangling afterwards)
  struct Reply {
    std::uint32_t ref;
    bool ok;
    std::string data;
    std::string code;
  };
  std::vector<Reply> replies;
  std::vector<std::uint32_t> subscribed;
  std::vector<std::pair<std::uint32_t, std::string>> presence_diffs;
  std::vector<std::string> errors;
  std::vector<std::string> error_messages;
  struct Unsubscribed {
    std::uint32_t channel_id;
    std::string code;
    std::string message;
  };
  std::vector<Unsubscribed> unsubscribed;
  int token_requests = 0;
  int url_requests = 0;
};

}  // namespace tidewire::testing

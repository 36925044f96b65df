// Minimal engine surroundings for benchmarks and fuzz targets: a settable clock, a transport that accepts
// everything, and a listener that only counts payload bytes. Tests that assert on calls use fake_transport.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/clock.hpp"
#include "client/engine_listener.hpp"
#include "client/transport.hpp"

namespace tidewire::testing {

struct ManualClock final : client::Clock {
  double now_ms() const override { return now; }
  double wall_ms() const override { return now; }
  double now = 0;
};

struct AcceptingTransport final : client::Transport {
  client::SocketId open(const std::string&, const std::vector<std::string>&) override { return ++id; }
  bool send_text(client::SocketId, std::string_view) override { return true; }
  bool send_binary(client::SocketId, std::string_view) override { return true; }
  void close(client::SocketId, std::uint16_t, std::string_view) override {}
  client::SocketId id = 0;  // the last socket opened
};

struct CountingListener final : client::EngineListener {
  void on_state(client::ConnectionState, client::ConnectionState, std::string_view) override {}
  void on_event_name(std::uint32_t, std::string_view) override {}
  void on_message(std::uint32_t, std::uint32_t, std::string_view p, const client::MessageMeta&) override {
    bytes += p.size();
  }
  void on_binary_message(std::uint32_t, std::uint32_t, std::string_view p, const client::MessageMeta&) override {
    bytes += p.size();
  }
  void on_gap(std::uint32_t, std::string_view) override {}
  void on_ack(std::uint32_t, bool, std::uint64_t, std::string_view, std::string_view, std::string_view) override {}
  void on_reply(std::uint32_t, bool, std::string_view, std::string_view, std::string_view) override {}
  void on_subscribed(std::uint32_t) override {}
  void on_presence_diff(std::uint32_t, std::string_view) override {}
  void on_unsubscribed(std::uint32_t, std::string_view, std::string_view) override {}
  void on_error(std::string_view, std::string_view) override {}
  void on_token_request() override {}
  void on_url_request() override {}
  std::size_t bytes = 0;
};

}  // namespace tidewire::testing

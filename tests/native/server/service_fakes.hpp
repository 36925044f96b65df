// Test doubles for Services (services.hpp): a connection (the shared FakeSession under the server's real
// ConnectionContext), a recording Broadcaster, a hand-driven clock, and a temporary directory for file databases.
// Shared by the presence, chat, sync and sqlite tests.
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "fake_session.hpp"
#include "server/connection_context.hpp"
#include "server/services.hpp"

namespace tidewire::server::testing {

using nlohmann::json;

constexpr std::uint64_t kStartMs = 1'700'000'000'000;

// One authenticated connection as Services sees it: the server's ConnectionContext over a FakeConnection, so
// replies and errors land in `sink` encoded as the server sends them. Subscribe with `state.channels.insert()`.
class FakeContext : public FakeConnection, public ConnectionContext {
 public:
  FakeContext(std::string user, std::string connection) : ConnectionContext(FakeConnection::state, *sink) {
    state.user_id = std::move(user);
    state.connection_id = std::move(connection);
    state.authenticated = true;
  }
  FakeContext(const FakeContext&) = delete;
  FakeContext& operator=(const FakeContext&) = delete;
};

struct Published {
  std::string channel;
  std::string event;
  std::string from;
  json payload;
  bool transient = false;  // sent through publish_transient (may stay out of history)
};

class FakeBroadcaster : public Broadcaster {
 public:
  // Room-list pushes to user:<id> channels go to `pushes`; everything else to `published`.
  void publish(std::string_view channel, std::string_view event, std::string_view from, const json& payload) override {
    auto& into = channel.substr(0, 5) == "user:" ? pushes : published;
    into.push_back({std::string(channel), std::string(event), std::string(from), payload});
  }
  void publish_transient(std::string_view channel, std::string_view event, std::string_view from,
                         const json& payload) override {
    published.push_back({std::string(channel), std::string(event), std::string(from), payload, true});
  }
  void send_raw(std::string_view channel, std::string_view message_json) override {
    raw.emplace_back(std::string(channel), json::parse(message_json));
  }
  void end_subscriptions(std::string_view channel, std::string_view user, std::string_view reason,
                         std::string_view message) override {
    ended.push_back({std::string(channel), std::string(user), std::string(reason), std::string(message)});
  }
  std::vector<Published> take_published() { return std::exchange(published, {}); }
  std::vector<Published> take_pushes() { return std::exchange(pushes, {}); }
  std::vector<std::pair<std::string, json>> take_raw() { return std::exchange(raw, {}); }

  struct Ended {
    std::string channel;
    std::string user;  // "" = every subscriber
    std::string reason;
    std::string message;
  };
  std::vector<Published> published;
  std::vector<Published> pushes;
  std::vector<std::pair<std::string, json>> raw;
  std::vector<Ended> ended;
};

// A Services with a fake clock and broadcaster, and a way to send one request and get its one answer.
struct Harness {
  explicit Harness(ServicesConfig config = {}) : services(std::move(config), out, [this] { return now; }) {}

  // Sends `msg` (which names its "type" and maybe a "ref") from `ctx`; returns what came back (reply or
  // error), or null when nothing did (chat_typing).
  json call(FakeContext& ctx, const json& msg) {
    ctx.sink->frames.clear();
    const std::string type = msg.contains("type") && msg["type"].is_string() ? msg["type"].get<std::string>() : "";
    const std::string ref = msg.contains("ref") && msg["ref"].is_string() ? msg["ref"].get<std::string>() : "r";
    services.handle(ctx, type, msg, ref);
    const std::vector<json> answers = ctx.sink->take_all();
    if (answers.size() > 1) return json{{"type", "too_many_answers"}, {"answers", answers}};
    return answers.empty() ? json() : answers.front();
  }
  // The data of a reply, failing the test when the answer was not a reply.
  json ok(FakeContext& ctx, const json& msg) {
    const json answer = call(ctx, msg);
    EXPECT_EQ(answer.value("type", ""), "reply") << msg.dump() << " -> " << answer.dump();
    return answer.is_object() && answer.contains("data") ? answer["data"] : json();
  }
  // The error code of an answer ("" when it was not an error).
  std::string code(FakeContext& ctx, const json& msg) {
    const json answer = call(ctx, msg);
    return answer.is_object() && answer.value("type", "") == "error" ? answer.value("code", "") : "";
  }
  void advance(std::uint64_t ms) {
    now += ms;
    services.tick();
  }
  // The id of a chat room `who` creates with `participants` (and `visibility`, when given).
  std::string create_room(FakeContext& who, const std::string& name, const json& participants,
                          const std::string& visibility = "") {
    json msg{{"type", "chat_create_room"}, {"name", name}, {"participants", participants}};
    if (!visibility.empty()) msg["visibility"] = visibility;
    return ok(who, msg)["room"]["id"].get<std::string>();
  }
  // The reply data of `who` sending `text` (with the fields of `extra`) to `room`.
  json chat_send(FakeContext& who, const std::string& room, const std::string& text,
                 const json& extra = json::object()) {
    json msg{{"type", "chat_send"}, {"roomId", room}, {"text", text}};
    msg.update(extra);
    return ok(who, msg);
  }

  std::uint64_t now = kStartMs;
  FakeBroadcaster out;
  Services services;
};

// The chat tests' fixture: alice, bob and carol, and a room "General" that alice created with bob.
class ChatRoomTest : public ::testing::Test {
 protected:
  ChatRoomTest() : room(h.create_room(alice, "General", {"bob"})), channel("chat:" + room) {}
  // The reply data of `who` sending `text` (with the fields of `extra`) to the room.
  json send(FakeContext& who, const std::string& text, const json& extra = json::object()) {
    return h.chat_send(who, room, text, extra);
  }

  Harness h;
  FakeContext alice{"alice", "c-a"};
  FakeContext bob{"bob", "c-b"};
  FakeContext carol{"carol", "c-c"};
  std::string room;
  std::string channel;
};

// A fresh directory under the system temp dir, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("tidewire-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace tidewire::server::testing

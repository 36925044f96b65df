// The protocol logic with a recording sink: auth paths, channels, and a table of hostile inputs.
#include "server/message_handler.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "fake_session.hpp"
#include "server/jwt_signer.hpp"

namespace tidewire::server {
namespace {

using nlohmann::json;

constexpr std::uint64_t kNowMs = 1'700'000'000'000;
const std::string kSecret = "secret";

class MessageHandlerTest : public ::testing::Test {
 protected:
  using Conn = testing::FakeConnection;

  Conn open(std::string_view preauth_user = "") {
    Conn c;
    c.state.connection_id = "c-0000000000000001";
    handler.on_open(c.state, *c.sink, preauth_user);
    return c;
  }
  Conn authed(std::string_view user) {
    Conn c = open(user);
    EXPECT_EQ(c.sink->take()["type"], "auth_success");
    return c;
  }
  void text(Conn& c, std::string_view frame) { handler.on_text(c.state, *c.sink, frame); }
  void text_json(Conn& c, const json& j) { text(c, j.dump()); }
  std::string token(const std::string& sub, std::int64_t exp_offset_s = 3600) {
    return sign_hs256(kSecret, {{"sub", sub}, {"exp", static_cast<std::int64_t>(kNowMs / 1000) + exp_offset_s}});
  }

  Hub hub;
  JwtVerifier verifier{kSecret};
  MessageHandler handler{hub, verifier, HandlerLimits{65536, 3, 30000}, [] { return kNowMs; }};
};

TEST_F(MessageHandlerTest, SubprotocolAuthSendsAuthSuccessAtOnce) {
  Conn c = open("alice");
  const json w = c.sink->take();
  EXPECT_EQ(w["type"], "auth_success");
  EXPECT_EQ(w["version"], 1);
  EXPECT_EQ(w["connectionId"], "c-0000000000000001");
  EXPECT_EQ(w["userId"], "alice");
  EXPECT_EQ(w["serverTime"], kNowMs);
  EXPECT_EQ(w["heartbeatIntervalMs"], 30000);
  EXPECT_EQ(w["limits"], json({{"maxMessageBytes", 65536}, {"maxChannels", 3}}));
  handler.on_auth_timeout(c.state, *c.sink);
  EXPECT_FALSE(c.sink->closed);
}

TEST_F(MessageHandlerTest, FirstMessageAuth) {
  Conn c = open();
  EXPECT_TRUE(c.sink->frames.empty());
  text_json(c, json{{"type", "auth"}, {"token", token("bob")}});
  const json w = c.sink->take();
  EXPECT_EQ(w["type"], "auth_success");
  EXPECT_EQ(w["userId"], "bob");
  EXPECT_TRUE(c.state.authenticated);
  handler.on_auth_timeout(c.state, *c.sink);
  EXPECT_FALSE(c.sink->closed);
}

TEST_F(MessageHandlerTest, AnythingButAValidAuthFirstCloses) {
  const std::pair<std::string, std::uint16_t> cases[] = {
      {R"({"type":"ping"})", 4001},
      {R"({"type":"subscribe","channel":"a"})", 4001},
      {"not json", 4001},
      {"[]", 4001},
      {R"({"type":"auth"})", 4001},
      {R"({"type":"auth","token":5})", 4001},
      {R"({"type":"auth","token":"a.b.c"})", 4001},
      {json{{"type", "auth"}, {"token", sign_hs256("wrong", {{"sub", "a"}, {"exp", 9999999999}})}}.dump(), 4001},
      {json{{"type", "auth"}, {"token", token("a", -3600)}}.dump(), 4003},
  };
  for (const auto& [input, code] : cases) {
    Conn c = open();
    text(c, input);
    ASSERT_TRUE(c.sink->closed) << input;
    EXPECT_EQ(c.sink->closed->first, code) << input;
    EXPECT_FALSE(c.sink->closed->second.empty());
    EXPECT_FALSE(c.state.authenticated);
    EXPECT_TRUE(c.sink->frames.empty()) << input;
  }
  Conn c = open();
  handler.on_binary(c.state, *c.sink);
  ASSERT_TRUE(c.sink->closed);
  EXPECT_EQ(c.sink->closed->first, 4001);
}

TEST_F(MessageHandlerTest, TheRestOfAFrameIsIgnoredOnceClosing) {
  Conn c = open();
  text(c, "{\"type\":\"ping\"}\n" + json{{"type", "auth"}, {"token", token("a")}}.dump());
  ASSERT_TRUE(c.sink->closed);
  EXPECT_FALSE(c.state.authenticated);
  EXPECT_TRUE(c.sink->frames.empty());
}

TEST_F(MessageHandlerTest, AuthTimeoutCloses4002) {
  Conn c = open();
  handler.on_auth_timeout(c.state, *c.sink);
  ASSERT_TRUE(c.sink->closed);
  EXPECT_EQ(c.sink->closed->first, 4002);
}

TEST_F(MessageHandlerTest, PublishAcksTheSenderAndFansOutWithOffsets) {
  Conn alice = authed("alice");
  Conn bob = authed("bob");
  text(alice, R"({"type":"subscribe","channel":"room:1","ref":"s"})");
  const std::string epoch = hub.epoch("room:1");
  EXPECT_EQ(epoch.size(), 18u);
  EXPECT_EQ(alice.sink->take(),
            json({{"type", "subscribed"}, {"channel", "room:1"}, {"ref", "s"}, {"offset", 0}, {"epoch", epoch}}));
  text(bob, R"({"type":"subscribe","channel":"room:1"})");
  EXPECT_EQ(bob.sink->take(), json({{"type", "subscribed"}, {"channel", "room:1"}, {"offset", 0}, {"epoch", epoch}}));

  for (int i = 1; i <= 2; ++i) {
    text(alice, R"({"type":"channel_message","channel":"room:1","event":"chat","payload":{"b":[1, 2],"a":"é"},"ref":"p"})");
    EXPECT_EQ(alice.sink->take(), json({{"type", "ack"}, {"ref", "p"}, {"channel", "room:1"}, {"offset", i}}));
    for (Conn* c : {&alice, &bob}) {
      const json m = c->sink->take();
      EXPECT_EQ(m["type"], "channel_message");
      EXPECT_EQ(m["offset"], i);
      EXPECT_EQ(m["epoch"], epoch);
      EXPECT_EQ(m["from"], "alice");
      EXPECT_EQ(m["ts"], kNowMs);
      EXPECT_EQ(m["payload"], json::parse(R"({"b":[1,2],"a":"é"})"));
    }
  }
  text(bob, R"({"type":"channel_message","channel":"room:1","event":"e","payload":null})");  // no ref: no ack
  EXPECT_EQ(bob.sink->take()["offset"], 3);
  EXPECT_TRUE(bob.sink->frames.empty());
  EXPECT_EQ(alice.sink->take()["offset"], 3);
}

TEST_F(MessageHandlerTest, UnsubscribeAndCloseLeaveTheHub) {
  Conn c = authed("carol");
  text(c, R"({"type":"subscribe","channel":"a"})");
  text(c, R"({"type":"subscribe","channel":"b"})");
  EXPECT_EQ(hub.subscriber_count("a"), 1u);
  text(c, R"({"type":"unsubscribe","channel":"a","ref":"u"})");
  c.sink->take();
  c.sink->take();
  EXPECT_EQ(c.sink->take(), json({{"type", "unsubscribed"}, {"channel", "a"}, {"ref", "u"}}));
  EXPECT_EQ(hub.subscriber_count("a"), 0u);
  handler.on_close(c.state, *c.sink);
  EXPECT_EQ(hub.channel_count(), 0u);
}

TEST_F(MessageHandlerTest, EnforcesMaxChannels) {
  Conn c = authed("dave");
  for (const char* ch : {"a", "b", "c", "a"}) text_json(c, json{{"type", "subscribe"}, {"channel", ch}});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.sink->take()["type"], "subscribed");
  text(c, R"({"type":"subscribe","channel":"d","ref":"x"})");
  const json e = c.sink->take();
  EXPECT_EQ(e["code"], "too_many_channels");
  EXPECT_EQ(e["ref"], "x");
}

TEST_F(MessageHandlerTest, PingEchoesTs) {
  Conn c = authed("p");
  text(c, R"({"type":"ping","ts":123.5,"ref":"r"})");
  EXPECT_EQ(c.sink->take(), json({{"type", "pong"}, {"ts", 123.5}, {"serverTime", kNowMs}, {"ref", "r"}}));
  text(c, R"({"type":"ping"})");
  EXPECT_EQ(c.sink->take(), json({{"type", "pong"}, {"serverTime", kNowMs}}));
}

struct Hostile {
  std::string input;
  const char* code;
  const char* ref;  // nullptr: no ref expected
};

TEST_F(MessageHandlerTest, HostileInputGetsErrorsAndTheConnectionStaysOpen) {
  const std::string long_ref(65, 'r');
  const std::vector<Hostile> cases = {
      {"{", "bad_json", nullptr},
      {" ", "bad_json", nullptr},
      {"\xff", "bad_json", nullptr},
      {"{\"type\":\"ping\",\"x\":\"\xc3\"}", "bad_json", nullptr},  // invalid UTF-8
      {R"({"type":"ping"} trailing)", "bad_json", nullptr},
      {"null", "bad_request", nullptr},
      {"5", "bad_request", nullptr},
      {R"("ping")", "bad_request", nullptr},
      {"[]", "bad_request", nullptr},
      {R"({})", "bad_request", nullptr},
      {R"({"type":1,"ref":"r"})", "bad_request", "r"},
      {R"({"type":null})", "bad_request", nullptr},
      {R"({"type":"ping","ref":5})", "bad_request", nullptr},
      {R"({"type":"ping","ref":")" + long_ref + R"("})", "bad_request", nullptr},
      {R"({"type":"nope","ref":"r"})", "unknown_type", "r"},
      {R"({"type":"","ref":"r"})", "unknown_type", "r"},
      {R"({"type":"subscribe","ref":"r"})", "bad_request", "r"},
      {R"({"type":"subscribe","channel":5,"ref":"r"})", "bad_request", "r"},
      {R"({"type":"subscribe","channel":"","ref":"r"})", "bad_request", "r"},
      {R"({"type":"subscribe","channel":"a b","ref":"r"})", "bad_request", "r"},
      {R"({"type":"subscribe","channel":"caf\u00e9","ref":"r"})", "bad_request", "r"},
      {R"({"type":"subscribe","channel":")" + std::string(129, 'c') + R"(","ref":"r"})", "bad_request", "r"},
      {R"({"type":"unsubscribe","channel":"zz","ref":"r"})", "not_subscribed", "r"},
      {R"({"type":"unsubscribe","ref":"r"})", "bad_request", "r"},
      {R"({"type":"channel_message","channel":"room","event":1,"payload":1,"ref":"r"})", "bad_request", "r"},
      {R"({"type":"channel_message","channel":"room","event":"","payload":1,"ref":"r"})", "bad_request", "r"},
      {R"({"type":"channel_message","channel":"room","event":"a\u0001","payload":1,"ref":"r"})", "bad_request", "r"},
      {R"({"type":"channel_message","channel":"room","event":")" + std::string(65, 'e') + R"(","payload":1,"ref":"r"})",
       "bad_request", "r"},
      {R"({"type":"channel_message","channel":"room","payload":1,"ref":"r"})", "bad_request", "r"},
      {R"({"type":"channel_message","channel":"room","event":"e","ref":"r"})", "bad_request", "r"},
      {R"({"type":"channel_message","event":"e","payload":1,"ref":"r"})", "bad_request", "r"},
      {R"({"type":"channel_message","channel":"chat:1","event":"e","payload":1,"ref":"r"})", "forbidden", "r"},
      {R"({"type":"channel_message","channel":"user:bob","event":"e","payload":1,"ref":"r"})", "forbidden", "r"},
      {R"({"type":"channel_message","channel":"room","event":"e","payload":1,"id":5,"ref":"r"})", "bad_request", "r"},
      {R"({"type":"channel_message","channel":"room","event":"e","payload":1,"id":")" + std::string(65, 'i') +
           R"(","ref":"r"})",
       "bad_request", "r"},
      {R"({"type":"ping","ts":"1","ref":"r"})", "bad_request", "r"},
      {R"({"type":"ping","ts":null,"ref":"r"})", "bad_request", "r"},
      {R"({"type":"auth","token":"x","ref":"r"})", "auth_failed", "r"},  // a refused refresh keeps the connection
      {R"({"type":"ping","x":)" + std::string(100000, '[') + std::string(100000, ']') + "}", "bad_request", nullptr},
      {std::string(100000, '{'), "bad_request", nullptr},
  };
  Conn c = authed("mallory");
  text(c, R"({"type":"subscribe","channel":"room"})");
  c.sink->take();
  for (const Hostile& h : cases) {
    text(c, h.input);
    ASSERT_EQ(c.sink->frames.size(), 1u) << h.input.substr(0, 200);
    const json e = c.sink->take();
    EXPECT_EQ(e["type"], "error") << h.input.substr(0, 200);
    EXPECT_EQ(e["code"], h.code) << h.input.substr(0, 200);
    EXPECT_TRUE(e["message"].is_string());
    if (h.ref) EXPECT_EQ(e["ref"], h.ref) << h.input.substr(0, 200);
    else EXPECT_FALSE(e.contains("ref")) << h.input.substr(0, 200);
    EXPECT_FALSE(c.sink->closed) << h.input.substr(0, 200);
  }
  handler.on_binary(c.state, *c.sink);
  EXPECT_EQ(c.sink->take()["code"], "bad_request");
  text(c, R"({"type":"ping","ref":"alive"})");
  EXPECT_EQ(c.sink->take()["ref"], "alive");
}

TEST_F(MessageHandlerTest, RandomMutationsNeverThrowAndAlwaysAnswerValidJson) {
  const std::string seeds[] = {
      R"({"type":"channel_message","channel":"room","event":"e","payload":{"a":[1,"x",null]},"ref":"r"})",
      R"({"type":"subscribe","channel":"room","ref":"1"})",
      R"({"type":"ping","ts":1.5})",
  };
  std::mt19937 rng(7);
  Conn c = authed("fuzz");
  text(c, R"({"type":"subscribe","channel":"room"})");
  for (int i = 0; i < 10000; ++i) {
    std::string s = seeds[rng() % 3];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) s[rng() % s.size()] = static_cast<char>(rng() % 256);
    ASSERT_NO_THROW(text(c, s)) << s;
    while (!c.sink->frames.empty()) ASSERT_NO_THROW(c.sink->take()) << s;  // every reply parses
  }
  EXPECT_FALSE(c.sink->closed);
}

TEST(JsonNestingDepth, CountsOutsideStrings) {
  EXPECT_EQ(json_nesting_depth(R"({"a":[1,{"b":2}]})", 64), 3);
  EXPECT_EQ(json_nesting_depth(R"({"a":"[[[[\"[["})", 64), 1);
  EXPECT_EQ(json_nesting_depth("", 64), 0);
}

}  // namespace
}  // namespace tidewire::server

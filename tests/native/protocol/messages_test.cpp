#include "protocol/messages.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "protocol/envelope.hpp"

using namespace tidewire::protocol;

TEST(Messages, BroadcastPutsThePayloadLastAndRoundTrips) {
  std::string out;
  encode_broadcast(out, Broadcast{"room:1", "chat \"x\"", 7, 1700000000000ull, "bob", R"({"t":"\n"})"});
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["type"], "channel_message");
  EXPECT_EQ(j["event"], "chat \"x\"");
  EXPECT_EQ(j["offset"], 7);
  EXPECT_EQ(j["payload"]["t"], "\n");
  EXPECT_EQ(out.rfind(R"("payload":)"), out.size() - std::string(R"("payload":{"t":"\n"}})").size());
}

TEST(Messages, ControlCharactersAreEscaped) {
  std::string out;
  encode_error(out, "bad_request", std::string("a\x01z"), "r1");
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["message"], std::string("a\x01z"));
  EXPECT_EQ(j["ref"], "r1");
}

TEST(Messages, ClientRequestsParse) {
  std::string out;
  encode_publish(out, "c", "e", "", "p1");
  auto j = nlohmann::json::parse(out);
  EXPECT_TRUE(j["payload"].is_null());
  out.clear();
  encode_ping(out, 12.25);
  EXPECT_EQ(nlohmann::json::parse(out)["ts"], 12.25);
  out.clear();
  encode_pong(out, false, 0, 5);
  EXPECT_FALSE(nlohmann::json::parse(out).contains("ts"));
  out.clear();
  encode_auth_success(out, AuthSuccess{"c-1", "u", 9, 30000, 65536, 100});
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["limits"]["maxChannels"], 100);
}

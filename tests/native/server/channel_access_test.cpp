// Access rules from claims: patterns, private user: channels, the chat membership hook.
#include "server/channel_access.hpp"

#include <gtest/gtest.h>

namespace tidewire::server {
namespace {

TEST(ChannelAccess, PatternsMatchExactlyOrByPrefixWithAStar) {
  EXPECT_TRUE(channel_matches("room:*", "room:1"));
  EXPECT_TRUE(channel_matches("room:*", "room:"));
  EXPECT_FALSE(channel_matches("room:*", "roo"));
  EXPECT_TRUE(channel_matches("*", "anything"));
  EXPECT_TRUE(channel_matches("news", "news"));
  EXPECT_FALSE(channel_matches("news", "newsroom"));
  EXPECT_FALSE(channel_matches("", "x"));
}

TEST(ChannelAccess, UserChannelsArePrivateWhateverTheClaims) {
  ChannelGrant open;
  EXPECT_TRUE(check_channel_access("alice", open, "user:alice", nullptr).empty());
  EXPECT_TRUE(check_channel_access("alice", open, "user:alice:inbox", nullptr).empty());
  EXPECT_FALSE(check_channel_access("alice", open, "user:bob", nullptr).empty());
  EXPECT_FALSE(check_channel_access("alice", open, "user:alice2", nullptr).empty());
  ChannelGrant all{true, {"*"}};
  EXPECT_FALSE(check_channel_access("alice", all, "user:bob", nullptr).empty());
}

TEST(ChannelAccess, AChannelsClaimRestrictsToItsPatterns) {
  ChannelGrant g{true, {"room:*", "news"}};
  EXPECT_TRUE(check_channel_access("a", g, "room:1", nullptr).empty());
  EXPECT_TRUE(check_channel_access("a", g, "news", nullptr).empty());
  EXPECT_FALSE(check_channel_access("a", g, "other", nullptr).empty());
  ChannelGrant none{true, {}};
  EXPECT_FALSE(check_channel_access("a", none, "room:1", nullptr).empty());
}

TEST(ChannelAccess, ChatChannelsAskTheMembershipHook) {
  ChannelGrant open;
  std::string asked;
  const ChatMembership only_r1 = [&](std::string_view user, std::string_view room) {
    asked = std::string(user) + "/" + std::string(room);
    return room == "r1";
  };
  EXPECT_TRUE(check_channel_access("alice", open, "chat:r1", only_r1).empty());
  EXPECT_EQ(asked, "alice/r1");
  EXPECT_FALSE(check_channel_access("alice", open, "chat:r2", only_r1).empty());
  EXPECT_TRUE(check_channel_access("alice", open, "chat:r2", nullptr).empty());  // no hook: allowed
}

}  // namespace
}  // namespace tidewire::server

#include "server/http_router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/jwt_signer.hpp"

namespace tidewire::server {
namespace {

constexpr std::uint64_t kNowMs = 1'700'000'000'000;

class HttpRouterTest : public ::testing::Test {
 protected:
  HttpRouterTest() {
    config.secret = "secret";
    config.allowed_origins = {"http://good.example"};
  }

  RouteResult get(std::string_view target) {
    HttpRequestInfo r;
    r.method = "GET";
    r.target = target;
    return router().route(r);
  }
  RouteResult upgrade(std::string_view target, std::string_view subprotocols = "", const char* origin = nullptr) {
    HttpRequestInfo r;
    r.method = "GET";
    r.target = target;
    r.websocket_upgrade = true;
    r.subprotocols = subprotocols;
    if (origin) {
      r.has_origin = true;
      r.origin = origin;
    }
    return router().route(r);
  }
  HttpRouter router() { return HttpRouter(config, verifier, nullptr, [] { return kNowMs; }); }
  std::string token(const std::string& sub, std::int64_t exp_offset = 60) {
    return sign_hs256("secret", {{"sub", sub}, {"exp", static_cast<std::int64_t>(kNowMs / 1000) + exp_offset}});
  }

  Config config;
  JwtVerifier verifier{"secret"};
};

TEST_F(HttpRouterTest, PlainRoutes) {
  EXPECT_EQ(get("/healthz").reply.status, 200u);
  EXPECT_EQ(get("/healthz").reply.body, R"({"status":"ok"})");
  EXPECT_EQ(get("/nothing").reply.status, 404u);
  EXPECT_EQ(get("/ws").reply.status, 426u);
  EXPECT_EQ(get("/dev/token?user=a").reply.status, 404u);  // off by default
  EXPECT_EQ(get("*").reply.status, 400u);
}

TEST_F(HttpRouterTest, UpgradeChecks) {
  EXPECT_EQ(upgrade("/other").reply.status, 404u);
  EXPECT_EQ(upgrade("/ws", "", "http://evil.example").reply.status, 403u);
  const RouteResult bad_version = upgrade("/ws?v=2");
  EXPECT_EQ(bad_version.reply.status, 400u);
  EXPECT_EQ(nlohmann::json::parse(bad_version.reply.body)["supportedVersions"], nlohmann::json::array({1}));

  const RouteResult first_message = upgrade("/ws?v=1", "", "http://good.example");
  EXPECT_EQ(first_message.kind, RouteResult::Kind::kUpgrade);
  EXPECT_FALSE(first_message.echo_jwt);
  EXPECT_TRUE(first_message.preauth_user.empty());

  const RouteResult with_token = upgrade("/ws", "jwt, " + token("alice"));
  EXPECT_EQ(with_token.kind, RouteResult::Kind::kUpgrade);
  EXPECT_TRUE(with_token.echo_jwt);
  EXPECT_EQ(with_token.preauth_user, "alice");

  EXPECT_EQ(upgrade("/ws", "jwt, " + token("alice", -3600)).reply.status, 401u);
  EXPECT_EQ(upgrade("/ws", "jwt, nonsense").reply.status, 401u);
  EXPECT_EQ(upgrade("/ws", "jwt").reply.status, 401u);
  EXPECT_EQ(upgrade("/ws", "chat").kind, RouteResult::Kind::kUpgrade);  // not ours: first-message auth
}

TEST_F(HttpRouterTest, DevTokens) {
  config.dev_tokens = true;
  const RouteResult ok = get("/dev/token?user=zoe");
  ASSERT_EQ(ok.reply.status, 200u);
  const auto body = nlohmann::json::parse(ok.reply.body);
  EXPECT_EQ(body["userId"], "zoe");
  EXPECT_EQ(body["expiresAt"], (kNowMs / 1000 + 3600) * 1000);
  const JwtResult v = verifier.verify(body["token"].get<std::string>(), kNowMs / 1000);
  ASSERT_TRUE(v.ok()) << v.reason;
  EXPECT_EQ(v.claims.sub, "zoe");
  for (const char* bad : {"/dev/token", "/dev/token?user=", "/dev/token?user=a%20b", "/dev/token?user=a/b",
                          "/dev/token?user=%E2%82%AC", "/dev/token?user=%zz"}) {
    EXPECT_EQ(get(bad).reply.status, 400u) << bad;
  }
  EXPECT_EQ(get("/dev/token?user=" + std::string(65, 'a')).reply.status, 400u);
}

TEST(QueryParam, FindsAndDecodes) {
  EXPECT_EQ(query_param("a=1&b=x%20y", "b"), "x y");
  EXPECT_EQ(query_param("a=1&b", "b"), "");
  EXPECT_FALSE(query_param("a=1", "b"));
  EXPECT_FALSE(query_param("b=%zz", "b"));
}

TEST(JwtFromSubprotocols, TakesTheEntryAfterJwt) {
  bool offered = false;
  EXPECT_EQ(jwt_from_subprotocols("jwt, abc", offered), "abc");
  EXPECT_TRUE(offered);
  EXPECT_EQ(jwt_from_subprotocols("chat,jwt,abc", offered), "abc");
  EXPECT_EQ(jwt_from_subprotocols("chat", offered), "");
  EXPECT_FALSE(offered);
}

}  // namespace
}  // namespace tidewire::server

namespace tidewire::server {
namespace {

TEST(HttpRouterMetrics, MetricsAreServedOnceEnabledAndCountRefusedTokens) {
  Config config;
  config.secret = "secret";
  JwtVerifier verifier{"secret"};
  Metrics metrics;
  HttpRouter router(config, verifier, nullptr, [] { return kNowMs; });
  HttpRequestInfo get;
  get.method = "GET";
  get.target = "/metrics";
  EXPECT_EQ(router.route(get).reply.status, 404u);  // not enabled
  router.set_metrics(&metrics, [] { return std::uint64_t{7}; });
  HttpRequestInfo up;
  up.method = "GET";
  up.target = "/ws?v=1&binary=1";
  up.websocket_upgrade = true;
  up.subprotocols = "jwt, bad.token.here";
  EXPECT_EQ(router.route(up).reply.status, 401u);
  const RouteResult r = router.route(get);
  EXPECT_EQ(r.reply.status, 200u);
  EXPECT_EQ(r.reply.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(r.reply.body.find("\ntidewire_channels 7\n"), std::string::npos);
  EXPECT_NE(r.reply.body.find("\ntidewire_auth_failures_total 1\n"), std::string::npos);
  up.subprotocols = "";
  const RouteResult first_message = router.route(up);
  EXPECT_EQ(first_message.kind, RouteResult::Kind::kUpgrade);
  EXPECT_TRUE(first_message.binary);
}

}  // namespace
}  // namespace tidewire::server

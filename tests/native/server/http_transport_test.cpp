// The HTTP transports' core without sockets (http_transport.hpp, http_stream_session.hpp): sessions bound to
// their user, sequence numbers and acks (a lost response is sent again, an acknowledged one never), a new waiter
// superseding the old one, the slow-consumer bound, and the refusals (status and code) of hostile requests.
#include "server/http_transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "server/jwt_signer.hpp"

namespace tidewire::server {
namespace {

using nlohmann::json;

constexpr std::uint64_t kNowMs = 1'700'000'000'000;
const std::string kSecret = "secret";

class HttpTransportTest : public ::testing::Test {
 protected:
  HttpTransportTest() {
    config.max_queued_messages = 20;
    config.http_session_timeout_ms = 1000;
  }
  std::string bearer(const std::string& sub) {
    return "Bearer " + sign_hs256(kSecret, {{"sub", sub}, {"exp", static_cast<std::int64_t>(kNowMs / 1000) + 3600}});
  }
  HttpTransportResult request(std::string_view method, const std::string& target, const std::string& auth,
                              std::string_view body = "") {
    HttpTransportRequest r;
    r.method = method;
    r.target = target;
    r.authorization = auth;
    r.body = body;
    return transport.handle(r, ioc);
  }
  static std::string code(const HttpTransportResult& r) { return json::parse(r.reply.body).value("error", ""); }
  // Every message of a batch, parsed.
  static std::vector<json> parsed(const HttpStreamSession::Batch& b) {
    std::vector<json> out;
    for (const auto& m : b.messages) out.push_back(json::parse(*m));
    return out;
  }

  std::uint64_t now = kNowMs;
  Config config;
  Hub hub;
  JwtVerifier verifier{kSecret};
  MessageHandler handler{hub, verifier, HandlerLimits{4096, 10, 30000}, [this] { return now; }};
  SessionRegistry registry;
  boost::asio::io_context ioc;
  HttpTransport transport{config, handler, verifier, registry, [this] { return now; }};
  int waiter_a = 0, waiter_b = 0;  // waiter identities
};

TEST_F(HttpTransportTest, OpenSendsAuthSuccessAndBindsTheUser) {
  const auto r = request("GET", "/ws/poll", bearer("alice"));
  ASSERT_EQ(r.kind, HttpTransportResult::Kind::kPoll);
  auto s = r.session;
  EXPECT_EQ(s->user_id(), "alice");
  EXPECT_EQ(s->id().size(), 34u);
  // The answer names the session in a header too (a load balancer's stickiness), on a resume as well.
  const auto header = [](const HttpTransportResult& res) {
    for (const auto& [name, value] : res.reply.headers)
      if (name == "Tidewire-Session") return value;
    return std::string();
  };
  EXPECT_EQ(header(r), s->id());
  s->attach({}, &waiter_a, nullptr, 0);
  const auto batch = s->take(&waiter_a);
  ASSERT_EQ(batch.messages.size(), 1u);
  EXPECT_EQ(parsed(batch)[0]["type"], "auth_success");
  EXPECT_EQ(batch.last_seq, 1u);
  // Another user's token: 403; an unknown id: 404.
  const auto other = request("GET", "/ws/sse?session=" + s->id(), bearer("mallory"));
  EXPECT_EQ(other.reply.status, 403u);
  EXPECT_EQ(code(other), "session_forbidden");
  EXPECT_EQ(header(other), "");
  const auto resumed = request("GET", "/ws/sse?session=" + s->id() + "&ack=1", bearer("alice"));
  ASSERT_EQ(resumed.kind, HttpTransportResult::Kind::kStream);
  EXPECT_EQ(header(resumed), s->id());
  const auto unknown = request("POST", "/ws/send?session=s-nope", bearer("alice"), "{}");
  EXPECT_EQ(unknown.reply.status, 404u);
  EXPECT_EQ(code(unknown), "unknown_session");
  EXPECT_EQ(handler.user_connections().count("alice"), 1u);
}

TEST_F(HttpTransportTest, UnacknowledgedMessagesAreSentAgainAcknowledgedOnesNever) {
  auto s = request("GET", "/ws/poll", bearer("bob")).session;
  s->attach({}, &waiter_a, nullptr, 0);
  s->take(&waiter_a);  // auth_success, seq 1
  const std::string id = s->id();
  EXPECT_EQ(request("POST", "/ws/send?session=" + id + "&ack=1", bearer("bob"),
                    "{\"type\":\"ping\",\"ref\":\"a\"}\n{\"type\":\"ping\",\"ref\":\"b\"}").reply.status, 204u);
  const auto first = s->take(&waiter_a);
  ASSERT_EQ(first.messages.size(), 2u);
  EXPECT_EQ(first.last_seq, 3u);
  s->detach(&waiter_a, now);
  // The response was lost: the next poll still acknowledges 1 and gets 2 and 3 again.
  const auto again = request("GET", "/ws/poll?session=" + id + "&ack=1", bearer("bob"));
  ASSERT_EQ(again.kind, HttpTransportResult::Kind::kPoll);
  s->attach({}, &waiter_b, nullptr, again.ack);
  const auto resent = s->take(&waiter_b);
  EXPECT_EQ(parsed(resent), parsed(first));
  EXPECT_EQ(resent.last_seq, 3u);
  // Acknowledged: never again. The old waiter is superseded.
  s->attach({}, &waiter_a, nullptr, 3);
  EXPECT_TRUE(s->take(&waiter_b).superseded);
  EXPECT_TRUE(s->take(&waiter_a).messages.empty());
  // An ack past what was sent: 400.
  const auto bad = request("GET", "/ws/poll?session=" + id + "&ack=9", bearer("bob"));
  EXPECT_EQ(bad.reply.status, 400u);
  EXPECT_EQ(code(bad), "bad_ack");
}

TEST_F(HttpTransportTest, BinaryFramesTravelInBase64BesideTheJsonMessages) {
  HttpStreamSession::Batch batch;
  batch.messages = {std::make_shared<const std::string>("{\"n\":1}"),
                    std::make_shared<const std::string>(std::string("\x01" "abc", 4)),
                    std::make_shared<const std::string>("{\"n\":2}"),
                    std::make_shared<const std::string>("{\"n\":3}")};
  batch.last_seq = 8;  // the messages are 5, 6, 7, 8
  // SSE: a run of JSON messages is one event (id: its last), a binary frame an event of its own.
  EXPECT_EQ(HttpTransport::sse_events(batch),
            "id: 5\ndata: {\"n\":1}\n\n"
            "event: binary\nid: 6\ndata: AWFiYw==\n\n"
            "id: 8\ndata: {\"n\":2}\ndata: {\"n\":3}\n\n");
  // Poll: one line per message, a binary frame's line "b:" and its base64.
  EXPECT_EQ(HttpTransport::poll_body("s-x", batch),
            "{\"ack\":8,\"session\":\"s-x\"}\n{\"n\":1}\nb:AWFiYw==\n{\"n\":2}\n{\"n\":3}");
}

TEST_F(HttpTransportTest, AnOctetStreamBodyIsOneBinaryFrame) {
  auto s = request("GET", "/ws/poll", bearer("carol")).session;
  s->attach({}, &waiter_a, nullptr, 0);
  s->take(&waiter_a);  // auth_success
  HttpTransportRequest r;
  r.method = "POST";
  const std::string target = "/ws/send?session=" + s->id();
  r.target = target;
  const std::string auth = bearer("carol");
  r.authorization = auth;
  r.content_type = "Application/Octet-Stream; charset=binary";
  const std::string frame = std::string("\x07", 1);  // an unknown kind byte: the handler's bad_request
  r.body = frame;
  EXPECT_EQ(transport.handle(r, ioc).reply.status, 204u);
  const auto got = s->take(&waiter_a);
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(parsed(got)[0]["code"], "bad_request");
  // Not JSON, yet no bad_json: the body was not read as text.
  r.body = std::string(5000, '\x01');  // over maxMessageBytes (4096): refused before the handler
  const auto big = transport.handle(r, ioc);
  EXPECT_EQ(big.reply.status, 413u);
  EXPECT_EQ(code(big), "message_too_large");
}

TEST_F(HttpTransportTest, HostileRequestsGetAStatusAndACode) {
  auto s = request("GET", "/ws/poll", bearer("carol")).session;
  const std::string send = "/ws/send?session=" + s->id();
  struct Case {
    std::string method, target, auth, body;
    unsigned status;
    std::string code;
  } cases[] = {
      {"GET", "/ws/poll", "", "", 401, "auth_required"},
      {"GET", "/ws/poll", "Basic xyz", "", 401, "auth_required"},
      {"GET", "/ws/poll", "Bearer nope", "", 401, "auth_failed"},
      {"GET", "/ws/poll?token=abc", bearer("carol"), "", 400, "token_in_url"},
      {"PUT", send, bearer("carol"), "{}", 405, "method_not_allowed"},
      {"POST", "/ws/poll", bearer("carol"), "{}", 405, "method_not_allowed"},
      {"POST", send, bearer("carol"), "{\"type\":\"ping\"}\n{oops", 400, "bad_json"},
      {"POST", send, bearer("carol"), std::string(5000, ' '), 413, "message_too_large"},
      {"GET", "/ws/poll?session=" + s->id() + "&ack=-1", bearer("carol"), "", 400, "bad_ack"},
  };
  for (const auto& c : cases) {
    const auto r = request(c.method, c.target, c.auth, c.body);
    EXPECT_EQ(r.kind, HttpTransportResult::Kind::kRespond) << c.method << " " << c.target;
    EXPECT_EQ(r.reply.status, c.status) << c.method << " " << c.target;
    EXPECT_EQ(code(r), c.code) << c.method << " " << c.target;
  }
  // Nothing of the refused bodies was handled: only auth_success is queued.
  s->attach({}, &waiter_a, nullptr, 0);
  EXPECT_EQ(s->take(&waiter_a).messages.size(), 1u);
}

TEST_F(HttpTransportTest, PastTheQueueBoundTheSessionClosesWith1013) {
  auto s = request("GET", "/ws/poll", bearer("dave")).session;
  for (int i = 0; i < 25; ++i) s->send("{\"type\":\"x\"}");
  s->attach({}, &waiter_a, nullptr, 0);
  const auto b = s->take(&waiter_a);
  ASSERT_TRUE(b.close.has_value());
  EXPECT_EQ(b.close->code, 1013);
  EXPECT_EQ(b.close->reason, "slow consumer");
}

TEST_F(HttpTransportTest, IdleSessionsEndAfterTheTimeoutAndFreeTheirSlot) {
  auto s = request("GET", "/ws/poll", bearer("erin")).session;
  s->attach({}, &waiter_a, nullptr, 0);
  now += 5000;
  transport.sweep();
  EXPECT_EQ(transport.size(), 1u);  // a waiter is attached
  s->detach(&waiter_a, now);
  now += 999;
  transport.sweep();
  EXPECT_EQ(transport.size(), 1u);
  now += 2;
  transport.sweep();
  EXPECT_EQ(transport.size(), 0u);
  EXPECT_TRUE(s->finished());
  EXPECT_EQ(handler.user_connections().count("erin"), 0u);
  EXPECT_EQ(registry.size(), 0u);
}

}  // namespace
}  // namespace tidewire::server

// The HS256 verifier against hostile tokens (the cases Debian's cpp-jwt got wrong, see shared/SERVER-NOTES.md).
#include "server/jwt_verifier.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "server/base64url.hpp"
#include "server/jwt_signer.hpp"

namespace tidewire::server {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kSecret = "secret";

// A token with an arbitrary header and payload text, correctly signed with `secret`.
std::string raw_token(std::string_view header, std::string_view payload, std::string_view secret = kSecret) {
  std::string t = base64url_encode(header) + "." + base64url_encode(payload);
  return t + "." + base64url_encode(hmac_sha256(secret, t));
}

JwtResult verify(const std::string& token) { return JwtVerifier(kSecret).verify(token, kNow); }

TEST(Base64Url, RoundTripsAndIsStrict) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\xff\xfe\x00\x80"}) {
    std::string out;
    ASSERT_TRUE(base64url_decode(base64url_encode(s), out));
    EXPECT_EQ(out, s);
  }
  std::string out;
  EXPECT_TRUE(base64url_decode("QQ", out));
  EXPECT_EQ(out, "A");
  EXPECT_FALSE(base64url_decode("QR", out));    // non-zero unused bits: a second spelling of "A"
  EXPECT_FALSE(base64url_decode("QQ==", out));  // padding
  EXPECT_FALSE(base64url_decode("Q", out));     // a lone character
  EXPECT_FALSE(base64url_decode("a+b/", out));  // the non-url alphabet
  EXPECT_FALSE(base64url_decode("ab c", out));
  EXPECT_FALSE(base64url_decode("ab\x80" "c", out));
  EXPECT_FALSE(base64url_decode("ab\xff" "c", out));
}

TEST(JwtVerifier, AcceptsAValidToken) {
  const auto r = verify(sign_hs256(kSecret, {{"sub", "alice"}, {"exp", kNow + 60}, {"name", "Alice"}}));
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.claims.sub, "alice");
  EXPECT_EQ(r.claims.name, "Alice");
  EXPECT_EQ(r.claims.exp, kNow + 60);
}

TEST(JwtVerifier, RejectsABadSignature) {
  EXPECT_EQ(verify(sign_hs256("other", {{"sub", "a"}, {"exp", kNow + 60}})).status, JwtStatus::kBadSignature);
  // A payload swapped under a valid signature.
  std::string token = sign_hs256(kSecret, {{"sub", "a"}, {"exp", kNow + 60}});
  const std::string forged = sign_hs256(kSecret, {{"sub", "admin"}, {"exp", kNow + 60}});
  const auto d1 = token.find('.'), d2 = token.rfind('.');
  const auto f1 = forged.find('.'), f2 = forged.rfind('.');
  token = token.substr(0, d1 + 1) + forged.substr(f1 + 1, f2 - f1 - 1) + token.substr(d2);
  EXPECT_EQ(verify(token).status, JwtStatus::kBadSignature);
  // A truncated signature.
  const std::string good = sign_hs256(kSecret, {{"sub", "a"}, {"exp", kNow + 60}});
  EXPECT_FALSE(verify(good.substr(0, good.size() - 4)).ok());
}

TEST(JwtVerifier, RequiresAlgHs256Exactly) {
  const std::string payload = R"({"sub":"a","exp":1700000060})";
  EXPECT_EQ(verify(raw_token(R"({"alg":"HS512"})", payload)).status, JwtStatus::kUnsupportedAlg);
  EXPECT_EQ(verify(raw_token(R"({"alg":"none"})", payload)).status, JwtStatus::kUnsupportedAlg);
  EXPECT_EQ(verify(raw_token(R"({"alg":"hs256"})", payload)).status, JwtStatus::kUnsupportedAlg);
  EXPECT_EQ(verify(raw_token(R"({"alg":8})", payload)).status, JwtStatus::kUnsupportedAlg);
  EXPECT_EQ(verify(raw_token(R"({"alg":null})", payload)).status, JwtStatus::kUnsupportedAlg);
  EXPECT_EQ(verify(raw_token(R"({})", payload)).status, JwtStatus::kUnsupportedAlg);
  // alg "none" with an empty signature: the classic forgery.
  const std::string none = base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(payload) + ".";
  EXPECT_FALSE(verify(none).ok());
  EXPECT_TRUE(verify(raw_token(R"({"alg":"HS256"})", payload)).ok());
}

TEST(JwtVerifier, RequiresSubAndExp) {
  const std::string h = R"({"alg":"HS256"})";
  EXPECT_EQ(verify(raw_token(h, R"({"sub":"a"})")).status, JwtStatus::kMissingClaim);
  EXPECT_EQ(verify(raw_token(h, R"({"sub":"a","exp":"1700000060"})")).status, JwtStatus::kMissingClaim);
  EXPECT_EQ(verify(raw_token(h, R"({"sub":"a","exp":null})")).status, JwtStatus::kMissingClaim);
  EXPECT_EQ(verify(raw_token(h, R"({"sub":"a","exp":1e300})")).status, JwtStatus::kMissingClaim);
  EXPECT_EQ(verify(raw_token(h, R"({"sub":"a","exp":-9223372036854775807})")).status, JwtStatus::kMissingClaim);
  EXPECT_EQ(verify(raw_token(h, R"({"exp":1700000060})")).status, JwtStatus::kMissingClaim);
  EXPECT_EQ(verify(raw_token(h, R"({"sub":7,"exp":1700000060})")).status, JwtStatus::kMissingClaim);
  EXPECT_EQ(verify(raw_token(h, R"({"sub":"","exp":1700000060})")).status, JwtStatus::kMissingClaim);
  EXPECT_EQ(verify(raw_token(h, R"({"sub":"a","exp":1700000060.9})")).status, JwtStatus::kOk);
}

TEST(JwtVerifier, SaysWhenSubIsTooLong) {
  const auto at_limit = verify(sign_hs256(kSecret, {{"sub", std::string(256, 'u')}, {"exp", kNow + 60}}));
  EXPECT_TRUE(at_limit.ok()) << at_limit.reason;
  const auto over = verify(sign_hs256(kSecret, {{"sub", std::string(257, 'u')}, {"exp", kNow + 60}}));
  EXPECT_EQ(over.status, JwtStatus::kMalformed);
  EXPECT_EQ(over.reason, "token sub is longer than 256 bytes; use a shorter user id");
}

TEST(JwtVerifier, TheClockIsInjected) {
  const JwtVerifier verifier(kSecret);
  const std::string token = sign_hs256(kSecret, {{"sub", "a"}, {"exp", kNow + 60}});
  EXPECT_TRUE(verifier.verify(token, kNow + 59).ok());
  EXPECT_EQ(verifier.verify(token, kNow + 60).status, JwtStatus::kExpired);
  EXPECT_EQ(verifier.verify(token, kNow + 70).status, JwtStatus::kExpired);  // 10 s ago: refused, not leeway'd
}

TEST(JwtVerifier, HonoursExpExactlyAndNbfAndIatWithLeeway) {
  auto with = [](nlohmann::json extra) {
    nlohmann::json claims = {{"sub", "a"}, {"exp", kNow + 3600}};
    claims.update(extra);
    return verify(sign_hs256(kSecret, claims)).status;
  };
  // exp has no leeway (issue 12: a token expired 10 s ago was accepted, then closed with 4003).
  EXPECT_EQ(with({{"exp", kNow - 31}}), JwtStatus::kExpired);
  EXPECT_EQ(with({{"exp", kNow - 10}}), JwtStatus::kExpired);
  EXPECT_EQ(with({{"exp", kNow - 1}}), JwtStatus::kExpired);
  EXPECT_EQ(with({{"exp", kNow}}), JwtStatus::kExpired);  // expired from its exp second on
  EXPECT_EQ(with({{"exp", kNow + 1}}), JwtStatus::kOk);
  EXPECT_EQ(with({{"nbf", kNow + 31}}), JwtStatus::kNotYetValid);
  EXPECT_EQ(with({{"nbf", kNow + 29}}), JwtStatus::kOk);
  EXPECT_EQ(with({{"iat", kNow + 31}}), JwtStatus::kNotYetValid);
  EXPECT_EQ(with({{"iat", kNow - 100}}), JwtStatus::kOk);
  EXPECT_EQ(with({{"nbf", "soon"}}), JwtStatus::kMalformed);
}

TEST(JwtVerifier, RejectsWrongSegmentCounts) {
  const std::string good = sign_hs256(kSecret, {{"sub", "a"}, {"exp", kNow + 60}});
  EXPECT_TRUE(verify(good).ok());
  EXPECT_EQ(verify(good.substr(0, good.rfind('.'))).status, JwtStatus::kMalformed);  // 2 segments
  EXPECT_EQ(verify(good + ".x").status, JwtStatus::kMalformed);                      // 4 segments
  EXPECT_EQ(verify(good + ".").status, JwtStatus::kMalformed);
  EXPECT_EQ(verify("..").status, JwtStatus::kMalformed);
  EXPECT_EQ(verify("").status, JwtStatus::kMalformed);
  EXPECT_EQ(verify("abc").status, JwtStatus::kMalformed);
  EXPECT_EQ(verify("." + good).status, JwtStatus::kMalformed);
}

TEST(JwtVerifier, RejectsBytesOutsideTheBase64UrlAlphabet) {
  const std::string good = sign_hs256(kSecret, {{"sub", "a"}, {"exp", kNow + 60}});
  const std::size_t positions[] = {0, good.find('.') + 1, good.rfind('.') + 1, good.size() - 1};
  for (char bad : {'+', '/', '=', ' ', '\0', '\x80', '\xc3', '\xff', '\n'}) {
    for (std::size_t pos : positions) {
      std::string t = good;
      t[pos] = bad;
      EXPECT_FALSE(verify(t).ok()) << "byte " << static_cast<int>(static_cast<unsigned char>(bad)) << " at " << pos;
    }
  }
}

TEST(JwtVerifier, RejectsOversizeTokens) {
  const std::string big_sub(JwtVerifier::kMaxTokenBytes, 'x');
  const auto r = verify(sign_hs256(kSecret, {{"sub", big_sub}, {"exp", kNow + 60}}));
  EXPECT_EQ(r.status, JwtStatus::kMalformed);
  EXPECT_EQ(r.reason, "token too long");
  EXPECT_EQ(verify(std::string(100000, 'a')).status, JwtStatus::kMalformed);
}

TEST(JwtVerifier, RejectsNonObjectJson) {
  EXPECT_EQ(verify(raw_token("[]", R"({"sub":"a","exp":1700000060})")).status, JwtStatus::kMalformed);
  EXPECT_EQ(verify(raw_token("\"HS256\"", R"({"sub":"a","exp":1700000060})")).status, JwtStatus::kMalformed);
  EXPECT_EQ(verify(raw_token("{\"alg\":\"HS256\"", R"({"sub":"a","exp":1700000060})")).status, JwtStatus::kMalformed);
  EXPECT_EQ(verify(raw_token(R"({"alg":"HS256"})", "5")).status, JwtStatus::kMalformed);
  EXPECT_EQ(verify(raw_token(R"({"alg":"HS256"})", "null")).status, JwtStatus::kMalformed);
  EXPECT_EQ(verify(raw_token(R"({"alg":"HS256"})", "{\"sub\":\"\xff\",\"exp\":1700000060}")).status,
            JwtStatus::kMalformed);  // invalid UTF-8
  EXPECT_EQ(verify(raw_token(R"({"alg":"HS256"})", std::string(3000, '[') + std::string(3000, ']'))).status,
            JwtStatus::kMalformed);
}

TEST(JwtVerifier, NeverThrowsOnRandomInput) {
  std::mt19937 rng(42);
  const std::string good = sign_hs256(kSecret, {{"sub", "a"}, {"exp", kNow + 60}});
  JwtVerifier v(kSecret);
  for (int i = 0; i < 20000; ++i) {
    std::string t = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) t[rng() % t.size()] = static_cast<char>(rng() % 256);
    if (rng() % 8 == 0) t.resize(rng() % t.size());
    EXPECT_NO_THROW(v.verify(t, kNow));
  }
}

}  // namespace
}  // namespace tidewire::server

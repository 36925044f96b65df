#include "server/jwt_verifier.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "server/base64url.hpp"

namespace tidewire::server {

namespace {

JwtResult fail(JwtStatus status, std::string reason) {
  JwtResult r;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

// Parses base64url text holding a JSON object. Returns a discarded/non-object json on failure (no throw).
nlohmann::json decode_json_object(std::string_view segment) {
  std::string bytes;
  if (!base64url_decode(segment, bytes)) return nlohmann::json(nlohmann::json::value_t::discarded);
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return nlohmann::json(nlohmann::json::value_t::discarded);
  return j;
}

// A NumericDate claim as whole seconds. Fractions are allowed by RFC 7519 and truncated; NaN, infinities and
// values beyond int64 are rejected so the arithmetic below cannot overflow.
std::optional<std::int64_t> numeric_date(const nlohmann::json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 2)) return std::nullopt;
      return static_cast<std::int64_t>(u);
    }
    const auto i = v.get<std::int64_t>();
    if (i < std::numeric_limits<std::int64_t>::min() / 2) return std::nullopt;
    return i;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 4.0e18) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const unsigned char* ok = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len);
  if (!ok) return {};
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

JwtResult JwtVerifier::verify(std::string_view token, std::int64_t now) const {
  if (token.empty()) return fail(JwtStatus::kMalformed, "token missing");
  if (token.size() > kMaxTokenBytes) return fail(JwtStatus::kMalformed, "token too long");

  // Exactly two dots: header.payload.signature, none of them empty.
  const std::size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return fail(JwtStatus::kMalformed, "token is not three segments");
  const std::size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return fail(JwtStatus::kMalformed, "token is not three segments");
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty() || signature_b64.empty())
    return fail(JwtStatus::kMalformed, "token has an empty segment");

  const nlohmann::json header = decode_json_object(header_b64);
  if (!header.is_object()) return fail(JwtStatus::kMalformed, "token header is not base64url JSON object");
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get_ref<const std::string&>() != "HS256")
    return fail(JwtStatus::kUnsupportedAlg, "token alg must be HS256");

  // Verify the signature before reading any claim.
  std::string signature;
  if (!base64url_decode(signature_b64, signature)) return fail(JwtStatus::kMalformed, "token signature is not base64url");
  const std::string expected = hmac_sha256(secret_, token.substr(0, dot2));
  if (expected.size() != 32 || signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
    return fail(JwtStatus::kBadSignature, "token signature is invalid");

  const nlohmann::json payload = decode_json_object(payload_b64);
  if (!payload.is_object()) return fail(JwtStatus::kMalformed, "token payload is not a JSON object");

  JwtResult r;
  const auto sub = payload.find("sub");
  if (sub == payload.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty())
    return fail(JwtStatus::kMissingClaim, "token sub must be a non-empty string");
  if (sub->get_ref<const std::string&>().size() > kMaxSubBytes)
    return fail(JwtStatus::kMalformed, "token sub is longer than 256 bytes; use a shorter user id");
  r.claims.sub = sub->get<std::string>();

  const auto exp_it = payload.find("exp");
  if (exp_it == payload.end()) return fail(JwtStatus::kMissingClaim, "token exp is required");
  const auto exp = numeric_date(*exp_it);
  if (!exp) return fail(JwtStatus::kMissingClaim, "token exp must be a number");
  // No leeway on exp: a token past its exp is refused (401 before the upgrade, 4003 on first-message auth) rather
  // than accepted and closed with 4003 a moment later. The leeway below only forgives an issuer's clock running
  // ahead of this one.
  if (now >= *exp) return fail(JwtStatus::kExpired, "token expired");
  r.claims.exp = *exp;

  for (const char* claim : {"nbf", "iat"}) {
    const auto it = payload.find(claim);
    if (it == payload.end()) continue;
    const auto t = numeric_date(*it);
    if (!t) return fail(JwtStatus::kMalformed, std::string("token ") + claim + " must be a number");
    if (*t > now + leeway_) return fail(JwtStatus::kNotYetValid, "token not valid yet");
  }

  if (const auto name = payload.find("name"); name != payload.end() && name->is_string())
    r.claims.name = name->get<std::string>();

  if (const auto channels = payload.find("channels"); channels != payload.end()) {
    if (!channels->is_array() || channels->size() > kMaxChannelPatterns)
      return fail(JwtStatus::kMalformed, "token channels must be an array of at most 256 strings");
    r.claims.has_channels = true;
    for (const auto& p : *channels) {
      if (!p.is_string() || p.get_ref<const std::string&>().size() > 256)
        return fail(JwtStatus::kMalformed, "token channels must be an array of strings");
      r.claims.channels.push_back(p.get<std::string>());
    }
  }

  r.status = JwtStatus::kOk;
  r.reason = "ok";
  return r;
}

}  // namespace tidewire::server

// HS256 JSON Web Token verification for untrusted input (docs/PROTOCOL.md section 1.1).
//
// Written for tokens straight off the network: a length cap, exactly three base64url segments in the strict
// alphabet, header `alg` exactly "HS256", a constant-time signature compare (CRYPTO_memcmp) done before the
// claims are read, `exp` and `sub` (1-256 bytes) required, `exp` honoured exactly (a token is expired from its
// `exp` second on, no leeway), `nbf`/`iat` with a leeway (an issuer's clock running a little ahead). Never
// throws: every failure is a status with a short reason that is safe to send back to the client.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/wire.hpp"

namespace tidewire::server {

enum class JwtStatus {
  kOk,
  kMalformed,       // not three base64url segments of JSON objects, too long, or a claim out of its limits
  kUnsupportedAlg,  // header alg is not exactly "HS256"
  kBadSignature,
  kMissingClaim,    // sub or exp missing or of the wrong type
  kExpired,         // now >= exp (no leeway)
  kNotYetValid,     // nbf or iat (- leeway) is in the future
};

struct JwtClaims {
  std::string sub;
  std::string name;  // optional display name ("" when absent)
  std::int64_t exp = 0;  // seconds since the epoch
  bool has_channels = false;          // the optional `channels` claim was present
  std::vector<std::string> channels;  // its patterns ("room:*"): the only channels this token may use
};

struct JwtResult {
  JwtStatus status = JwtStatus::kMalformed;
  std::string reason;  // short, for logs and close reasons ("token expired")
  JwtClaims claims;    // filled when status == kOk

  bool ok() const { return status == JwtStatus::kOk; }
};

class JwtVerifier {
 public:
  static constexpr std::size_t kMaxTokenBytes = 8 * 1024;
  static constexpr std::size_t kMaxSubBytes = 256;
  static constexpr std::size_t kMaxChannelPatterns = 256;

  explicit JwtVerifier(std::string secret, std::int64_t leeway_seconds = wire::defaults::kJwtLeewaySeconds)
      : secret_(std::move(secret)), leeway_(leeway_seconds) {}

  // `now_seconds`: the current time in seconds since the epoch (injected so tests control the clock).
  JwtResult verify(std::string_view token, std::int64_t now_seconds) const;

 private:
  std::string secret_;
  std::int64_t leeway_;
};

// HMAC-SHA256 of `data` with `key` (32 raw bytes). Shared with the signer.
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace tidewire::server

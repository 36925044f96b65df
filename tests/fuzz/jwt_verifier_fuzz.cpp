// Fuzzes the HS256 verifier with untrusted tokens. Half the runs re-sign the fuzzed header and payload with the
// real key, so the claim checks behind the signature are reached too. Nothing may crash; a token that verifies
// must have a non-empty sub and an exp.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/base64url.hpp"
#include "server/jwt_verifier.hpp"

using namespace tidewire::server;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const JwtVerifier verifier("fuzz-secret");
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string token(input);
  if (size > 0 && data[0] == 'S') {
    // "S<header json>\n<payload json>": sign it properly.
    const std::string_view rest = input.substr(1);
    const std::size_t nl = rest.find('\n');
    const std::string signing_input =
        base64url_encode(rest.substr(0, nl)) + "." +
        base64url_encode(nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1));
    token = signing_input + "." + base64url_encode(hmac_sha256("fuzz-secret", signing_input));
  }
  const JwtResult r = verifier.verify(token, 1'700'000'000);
  if (r.ok() && (r.claims.sub.empty() || r.claims.exp == 0)) std::abort();
  return 0;
}

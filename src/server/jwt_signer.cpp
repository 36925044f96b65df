#include "server/jwt_signer.hpp"

#include <nlohmann/json.hpp>

#include "server/base64url.hpp"
#include "server/jwt_verifier.hpp"

namespace tidewire::server {

std::string sign_hs256(std::string_view secret, const nlohmann::json& claims) {
  std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  token.push_back('.');
  // replace: a claim with invalid UTF-8 must not throw out of the signer.
  token += base64url_encode(claims.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  const std::string signature = base64url_encode(hmac_sha256(secret, token));
  token.push_back('.');
  token += signature;
  return token;
}

}  // namespace tidewire::server

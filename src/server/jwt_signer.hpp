// HS256 token signing, for the development token endpoint and for tests. Claims are passed as a JSON object.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace tidewire::server {

// Returns "<header>.<payload>.<signature>" with header {"alg":"HS256","typ":"JWT"}.
std::string sign_hs256(std::string_view secret, const nlohmann::json& claims);

}  // namespace tidewire::server

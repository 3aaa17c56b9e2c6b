// Base64 (RFC 4648, standard alphabet) decoding, for Secret data and kubeconfig *-data fields.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace partop::kube {

// Whitespace is ignored and padding is optional; nullopt for a character outside the alphabet,
// data after '=', or a dangling character.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace partop::kube

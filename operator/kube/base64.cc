#include "operator/kube/base64.h"

#include <array>
#include <cstdint>

namespace partop::kube {

std::optional<std::string> base64_decode(std::string_view text) {
  static constexpr std::array<int8_t, 256> kValue = [] {
    std::array<int8_t, 256> table{};
    table.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(alphabet[i])] = int8_t(i);
    return table;
  }();
  std::string out;
  uint32_t bits = 0;
  int nbits = 0;
  size_t padding = 0;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const int8_t value = kValue[static_cast<unsigned char>(c)];
    if (value < 0 || padding > 0) return std::nullopt;  // bad character, or data after '='
    bits = (bits << 6) | uint32_t(value);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(char((bits >> nbits) & 0xff));
    }
  }
  if (nbits >= 6 || padding > 2) return std::nullopt;  // a dangling character or too many '='
  return out;
}

}  // namespace partop::kube

#include "reconcilers/list/list_bound.h"

#include <cctype>

namespace partop {

std::optional<ListBoundValues> parse_list_bound(std::string_view bound) {
  constexpr std::string_view kPrefix = "FOR VALUES IN (";
  if (bound.substr(0, kPrefix.size()) != kPrefix || bound.size() <= kPrefix.size() ||
      bound.back() != ')')
    return std::nullopt;
  const std::string_view body = bound.substr(kPrefix.size(), bound.size() - kPrefix.size() - 1);
  ListBoundValues values;
  size_t at = 0;
  while (true) {
    if (at < body.size() && body[at] == '\'') {
      std::string value;
      ++at;
      while (true) {
        if (at >= body.size()) return std::nullopt;  // unterminated literal
        if (body[at] == '\'') {
          if (at + 1 < body.size() && body[at + 1] == '\'') {
            value += '\'';
            at += 2;
            continue;
          }
          ++at;
          break;
        }
        value += body[at++];
      }
      values.emplace_back(std::move(value));
    } else {
      const size_t end = body.find(", ", at);
      const std::string_view bare = body.substr(at, end == std::string_view::npos ? end : end - at);
      if (bare.empty()) return std::nullopt;
      if (bare == "NULL") {
        values.emplace_back(std::nullopt);
      } else {
        for (const char c : bare) {
          if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-' && c != '.')
            return std::nullopt;
        }
        values.emplace_back(std::string(bare));
      }
      at += bare.size();
    }
    if (at == body.size()) return values;
    if (body.substr(at, 2) != ", ") return std::nullopt;
    at += 2;
  }
}

}  // namespace partop

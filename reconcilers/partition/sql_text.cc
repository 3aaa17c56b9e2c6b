#include "reconcilers/partition/sql_text.h"

#include <stdexcept>

namespace partop::sql {
namespace {

std::string quote(std::string_view text, char mark) {
  if (text.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("SQL text cannot contain a NUL byte");
  }
  std::string out(1, mark);
  for (char c : text) {
    out += c;
    if (c == mark) out += mark;
  }
  out += mark;
  return out;
}

}  // namespace

std::string identifier(std::string_view name) {
  return quote(name, '"');
}

std::string qualified(const QualifiedName& name) {
  return identifier(name.schema) + "." + identifier(name.name);
}

std::string literal(std::string_view text) {
  return quote(text, '\'');
}

}  // namespace partop::sql

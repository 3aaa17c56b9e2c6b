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

std::string dollar_quoted(std::string_view body) {
  std::string tag = "$partop$";
  for (int n = 1; body.find(tag) != std::string_view::npos; ++n)
    tag = "$partop" + std::to_string(n) + "$";
  return tag + std::string(body) + tag;
}

std::string trigger_function(const QualifiedName& name, std::string_view body) {
  return "CREATE OR REPLACE FUNCTION " + qualified(name) +
         "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
         " SET search_path = pg_catalog, pg_temp AS " +
         dollar_quoted(body);
}

}  // namespace partop::sql

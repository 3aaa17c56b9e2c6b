#include "reconcilers/partition/db_session.h"

#include <regex>

namespace partop {

std::string milliseconds_literal(std::chrono::milliseconds value) {
  return "'" + std::to_string(value.count()) + "ms'";
}

std::vector<std::string> DatabaseSession::transaction_preamble(const StatementLimits& limits) {
  return {"SET LOCAL lock_timeout = " + milliseconds_literal(limits.lock_timeout),
          "SET LOCAL statement_timeout = " + milliseconds_literal(limits.statement_timeout)};
}

std::vector<std::string> DatabaseSession::autocommit_preamble(const StatementLimits& limits) {
  return {"SET lock_timeout = " + milliseconds_literal(limits.lock_timeout),
          "SET statement_timeout = " + milliseconds_literal(limits.statement_timeout)};
}

std::vector<std::string> DatabaseSession::autocommit_epilogue(
    std::chrono::milliseconds read_lock_timeout) {
  return {"SET lock_timeout = " + milliseconds_literal(read_lock_timeout),
          "RESET statement_timeout"};
}

std::string redact_dsn(const std::string& dsn) {
  static const std::regex kUriPassword(R"(^([a-z]+://[^:/@]*:)[^@]*@)");
  static const std::regex kKeyPassword(R"((password\s*=\s*)('([^'\\]|\\.)*'|\S+))");
  std::string out = std::regex_replace(dsn, kUriPassword, "$1***@");
  out = std::regex_replace(out, kKeyPassword, "$1***");
  static const std::regex kQueryPassword(R"(([?&]password=)[^&]*)");
  return std::regex_replace(out, kQueryPassword, "$1***");
}

}  // namespace partop

// The side-effect boundary to PostgreSQL: one session (connection) partop reads the catalog
// through and applies actions on. Implemented over libpqxx by pg_session; tests of the engine run
// against a real server through that implementation.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace partop {

using SqlValue = std::optional<std::string>;  // text form; nullopt is SQL NULL
using SqlRow = std::vector<SqlValue>;
using SqlRows = std::vector<SqlRow>;

// A statement and the values of its parameters ($1, $2, ...). A session may prepare a statement
// with parameters once and run it again by name: its text should hold no value, so that it is
// the same text every time.
struct SqlStatement {
  SqlStatement(std::string sql_text, std::vector<SqlValue> values = {})  // NOLINT: implicit
      : sql(std::move(sql_text)), params(std::move(values)) {}
  std::string sql;
  std::vector<SqlValue> params;
};

// The text of a value, "" for NULL.
inline const std::string& text_or_empty(const SqlValue& value) {
  static const std::string empty;
  return value ? *value : empty;
}

// An error reported by the server (with its SQLSTATE) or by the connection (sqlstate empty).
// The SQLSTATE partop raises itself when a check inside a step's transaction finds that the
// world changed since the step was planned (a backfill's live partition written to).
inline constexpr std::string_view kPartopConflictSqlstate = "PT409";

class DatabaseError : public std::runtime_error {
 public:
  // libpq ends its messages with a newline; conditions and logs get the message without it.
  DatabaseError(const std::string& message, std::string sqlstate)
      : std::runtime_error(message.substr(0, message.find_last_not_of(" \n") + 1)),
        sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }
  bool is_lock_timeout() const { return sqlstate_ == "55P03"; }
  bool is_statement_timeout() const { return sqlstate_ == "57014"; }
  bool is_insufficient_privilege() const { return sqlstate_ == "42501"; }
  // The server rolled the transaction back (serialization failure, deadlock): running it again
  // may well succeed.
  bool is_transaction_rollback() const { return sqlstate_.rfind("40", 0) == 0; }
  bool is_partop_conflict() const { return sqlstate_ == kPartopConflictSqlstate; }
  bool is_connection_failure() const { return sqlstate_.empty() || sqlstate_.rfind("08", 0) == 0; }
  // Class 28: the server refused the credentials or the role (wrong password, NOLOGIN, no
  // pg_hba.conf entry). Retrying does not help; a human must fix the Secret or the role.
  bool is_authentication_failure() const { return sqlstate_.rfind("28", 0) == 0; }
  // The condition reason for an error reaching or using the database: AuthenticationFailed
  // (Stalled) or DatabaseUnavailable (transient).
  std::string unavailable_reason() const {
    return is_authentication_failure() ? "AuthenticationFailed" : "DatabaseUnavailable";
  }

 private:
  std::string sqlstate_;
};

// Limits applied to every statement partop runs that takes locks.
struct StatementLimits {
  std::chrono::milliseconds lock_timeout;
  std::chrono::milliseconds statement_timeout;
};

class DatabaseSession {
 public:
  virtual ~DatabaseSession() = default;

  // Runs one read-only statement with bound parameters ($1, $2, ...) in its own implicit
  // transaction and returns its rows. (See SqlStatement: the text should hold no value.)
  virtual SqlRows query(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;

  // Runs read-only statements and returns each one's rows, in order; they may go in one round
  // trip. The first error is thrown and the statements after it are not run.
  virtual std::vector<SqlRows> query_batch(const std::vector<SqlStatement>& statements) {
    std::vector<SqlRows> out;
    out.reserve(statements.size());
    for (const auto& statement : statements) out.push_back(query(statement.sql, statement.params));
    return out;
  }

  // Runs `statements` in one transaction under `limits` (SET LOCAL) and commits. Returns the
  // number of rows the statement at index `counted` affected (0 without one); the others may be
  // sent together, in one round trip. On any error the transaction is rolled back and a
  // DatabaseError is thrown: nothing of it is left behind. `before_commit`, when given, runs
  // after the last statement and before COMMIT.
  virtual long run_transaction(const std::vector<std::string>& statements,
                               const StatementLimits& limits, std::optional<size_t> counted,
                               const std::function<void()>& before_commit) = 0;

  // Runs one statement that PostgreSQL refuses inside a transaction block (CREATE INDEX
  // CONCURRENTLY, REINDEX CONCURRENTLY) under `limits`, restoring the session defaults after.
  virtual void run_autocommit(const std::string& statement, const StatementLimits& limits) = 0;

  // Whether this session may serve another reconcile (SessionPool): its connection is open and
  // idle with nothing unread on it (a server that ended the session leaves its goodbye there).
  // A session that cannot tell says no.
  virtual bool reusable() const { return false; }

  // The SQL that run_transaction / run_autocommit send around the statements, so a dry run can
  // print exactly what apply sends.
  static std::vector<std::string> transaction_preamble(const StatementLimits& limits);
  static std::vector<std::string> autocommit_preamble(const StatementLimits& limits);
  // What follows an autocommit statement: back to the session's read settings.
  static std::vector<std::string> autocommit_epilogue(std::chrono::milliseconds read_lock_timeout);
};

// Opens sessions; one per reconcile of one policy.
class DatabaseConnector {
 public:
  virtual ~DatabaseConnector() = default;
  // See open_pg_session for `read_lock_timeout`.
  virtual std::unique_ptr<DatabaseSession> connect(const std::string& dsn,
                                                   std::chrono::milliseconds read_lock_timeout) = 0;
};

// A duration as a SQL literal for lock_timeout / statement_timeout: '2000ms'.
std::string milliseconds_literal(std::chrono::milliseconds value);

// Removes the password from a libpq URI or key=value DSN, for messages and logs.
std::string redact_dsn(const std::string& dsn);

}  // namespace partop

// A DatabaseSession that records what it is asked and answers from a script, for unit tests of
// the executor's control logic (guard order, stop points, error classification). It knows no
// SQL: answers are chosen by a substring of the statement. Claims about what PostgreSQL does
// with partop's SQL are proved against the real server by the integration suite.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "reconcilers/partition/db_session.h"

namespace partop::testing {

class FakeDatabaseSession : public DatabaseSession {
 public:
  // query() answers `rows` to any statement containing `fragment` (the first match wins);
  // otherwise no rows.
  void answer(const std::string& fragment, SqlRows rows) { answers_.emplace_back(fragment, rows); }
  // The transaction or autocommit statement containing `fragment` fails with `sqlstate`, the
  // next `times` times it is run.
  void fail(const std::string& fragment, const std::string& sqlstate, int times = 1) {
    failures_[fragment] = {sqlstate, times};
  }
  // A transaction's counted statement reports `rows` affected.
  void affect(long rows) { affected_ = rows; }

  SqlRows query(const std::string& sql, const std::vector<SqlValue>&) override {
    queries.push_back(sql);
    for (const auto& [fragment, rows] : answers_) {
      if (sql.find(fragment) != std::string::npos) return rows;
    }
    return {};
  }
  long run_transaction(const std::vector<std::string>& statements, const StatementLimits& limits,
                       std::optional<size_t> counted,
                       const std::function<void()>& before_commit) override {
    limits_used.push_back(limits);
    for (const auto& statement : statements) throw_if_failing(statement);
    if (before_commit) before_commit();
    committed.push_back(statements);
    return counted ? affected_ : 0;
  }
  void run_autocommit(const std::string& statement, const StatementLimits& limits) override {
    limits_used.push_back(limits);
    throw_if_failing(statement);
    committed.push_back({statement});
  }

  std::vector<std::string> queries;
  std::vector<std::vector<std::string>> committed;  // each transaction's statements, in order
  std::vector<StatementLimits> limits_used;         // of each transaction or statement run

 private:
  void throw_if_failing(const std::string& statement) {
    for (auto& [fragment, failure] : failures_) {
      if (failure.second > 0 && statement.find(fragment) != std::string::npos) {
        --failure.second;
        throw DatabaseError("injected failure: " + statement, failure.first);
      }
    }
  }

  std::vector<std::pair<std::string, SqlRows>> answers_;
  std::map<std::string, std::pair<std::string, int>> failures_;
  long affected_ = 0;
};

}  // namespace partop::testing

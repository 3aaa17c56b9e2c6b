#include "reconcilers/partition/pg_session.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <regex>
#include <unordered_map>

namespace partop {
namespace {

// libpq reports a refused login as a connection failure without its SQLSTATE: the server's
// class 28 messages are recognised by their text (English server messages, as lc_messages is
// by default), everything else counts as unreachable ("").
std::string connection_failure_sqlstate(const std::string& message) {
  const auto has = [&](const char* text) { return message.find(text) != std::string::npos; };
  if (!has("FATAL")) return "";
  if (has("password authentication failed")) return "28P01";
  if (has("is not permitted to log in") || has("no pg_hba.conf entry") ||
      has("authentication failed") || (has("role \"") && has("\" does not exist")))
    return "28000";
  return "";
}

[[noreturn]] void rethrow_as_database_error(const std::string& dsn) {
  try {
    throw;
  } catch (const pqxx::insufficient_privilege& e) {
    // libpqxx 6 throws this class without its SQLSTATE.
    throw DatabaseError(e.what(), "42501");
  } catch (const pqxx::sql_error& e) {
    // A server error is never a connection failure, even when libpqxx left its SQLSTATE out.
    throw DatabaseError(e.what(), e.sqlstate().empty() ? "XX000" : e.sqlstate());
  } catch (const pqxx::serialization_failure& e) {
    // libpqxx 6 derives the rollbacks from `failure`, not `sql_error`: their SQLSTATEs by class.
    throw DatabaseError(e.what(), "40001");
  } catch (const pqxx::deadlock_detected& e) {
    throw DatabaseError(e.what(), "40P01");
  } catch (const pqxx::transaction_rollback& e) {
    throw DatabaseError(e.what(), "40000");
  } catch (const pqxx::broken_connection& e) {
    throw DatabaseError(std::string("connection to ") + redact_dsn(dsn) + " failed: " + e.what(),
                        connection_failure_sqlstate(e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    throw DatabaseError(std::string("commit outcome unknown: ") + e.what(), "");
  }
}

SqlRows to_rows(const pqxx::result& result) {
  SqlRows rows;
  rows.reserve(result.size());
  for (const auto& row : result) {
    SqlRow out;
    out.reserve(row.size());
    for (const auto& field : row) {
      out.push_back(field.is_null() ? SqlValue{} : SqlValue{field.c_str()});
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

class PgSession : public DatabaseSession {
 public:
  PgSession(const std::string& dsn, std::chrono::milliseconds read_lock_timeout)
      : dsn_(dsn), read_lock_timeout_(read_lock_timeout) {
    try {
      // The session's settings travel in the startup packet: no round trip of their own.
      connection_ = std::make_unique<pqxx::connection>(conninfo_with_settings(
          dsn, "partop",
          // UTC and ISO: times print as the catalog reader reads them (bound_literal.h).
          {{"TimeZone", "UTC"},
           {"DateStyle", "ISO"},
           {"lock_timeout", std::to_string(read_lock_timeout_.count()) + "ms"}}));
    } catch (...) {
      rethrow_as_database_error(dsn_);
    }
  }

  SqlRows query(const std::string& sql, const std::vector<SqlValue>& params) override {
    if (params.empty()) {
      try {
        pqxx::nontransaction tx(*connection_);
        return to_rows(tx.exec(sql));
      } catch (...) {
        rethrow_as_database_error(dsn_);
      }
    }
    return std::move(query_batch({{sql, params}}).front());
  }

  // A statement with parameters runs as EXECUTE of a statement this session has PREPAREd (SQL
  // rather than protocol messages, so that a batch stays one message), its values quoted by
  // libpq. Planning partop's catalog reads cost four times their execution when each was planned
  // at every run. A prepared statement is parsed once, and the batch runs them with their
  // generic plan (SET LOCAL plan_cache_mode: the batch is one implicit transaction, so the
  // setting ends with it, and with it reaches nothing but these reads): PostgreSQL would
  // otherwise plan each again at every run until it compared five custom plans, and keep
  // planning those it judged cheaper planned each time — 2 of the 22 ms of a no-op reconcile of
  // 1,000 partitions. The reads look catalog rows up by key: the generic plan is the plan.
  std::vector<SqlRows> query_batch(const std::vector<SqlStatement>& statements) override {
    try {
      pqxx::nontransaction tx(*connection_);
      pqxx::pipeline pipeline(tx);
      // Held back until all are in (with a PREPARE each, two DEALLOCATEs and a SET at most),
      // then sent as one message.
      pipeline.retain(static_cast<int>(2 * statements.size() + 3));
      if (forget_prepared_) {
        pipeline.insert("DEALLOCATE ALL");
        forget_prepared_ = false;
      }
      if (std::any_of(statements.begin(), statements.end(),
                      [](const SqlStatement& statement) { return !statement.params.empty(); }))
        pipeline.insert("SET LOCAL plan_cache_mode = force_generic_plan");
      std::vector<pqxx::pipeline::query_id> ids;
      ids.reserve(statements.size());
      for (const auto& statement : statements) {
        ids.push_back(pipeline.insert(statement.params.empty() ? statement.sql
                                                               : execute_sql(pipeline, statement)));
      }
      pipeline.resume();
      std::vector<SqlRows> out;
      out.reserve(statements.size());
      for (const auto id : ids) out.push_back(to_rows(pipeline.retrieve(id)));
      pipeline.complete();
      return out;
    } catch (...) {
      // Which PREPAREs ran before the error is not known (a prepared statement outlives the
      // transaction that made it): the next batch starts from none.
      prepared_.clear();
      forget_prepared_ = true;
      rethrow_as_database_error(dsn_);
    }
  }

  bool reusable() const override {
    if (!connection_ || !connection_->is_open()) return false;
    pollfd socket{connection_->sock(), POLLIN, 0};
    return ::poll(&socket, 1, 0) == 0;
  }

  long run_transaction(const std::vector<std::string>& statements, const StatementLimits& limits,
                       std::optional<size_t> counted,
                       const std::function<void()>& before_commit) override {
    try {
      pqxx::work tx(*connection_);
      // Statements go as one multi-statement query (one round trip; PostgreSQL applies
      // statement_timeout to each), except the counted one, whose row count needs a result of
      // its own. A newline ends a trailing line comment before the separator.
      std::string batch;
      const auto send_batch = [&] {
        if (!batch.empty()) tx.exec(batch);
        batch.clear();
      };
      for (const auto& statement : transaction_preamble(limits)) batch += statement + "\n;\n";
      long affected = 0;
      for (size_t i = 0; i < statements.size(); ++i) {
        if (counted && *counted == i) {
          send_batch();
          affected = static_cast<long>(tx.exec(statements[i]).affected_rows());
        } else {
          batch += statements[i] + "\n;\n";
        }
      }
      send_batch();
      if (before_commit) before_commit();
      tx.commit();
      plan_reads_again();
      return affected;
    } catch (...) {
      rethrow_as_database_error(dsn_);
    }
  }

  void run_autocommit(const std::string& statement, const StatementLimits& limits) override {
    try {
      pqxx::nontransaction tx(*connection_);
      for (const auto& setting : autocommit_preamble(limits)) tx.exec(setting);
      try {
        tx.exec(statement);
      } catch (...) {
        reset_limits(tx);
        throw;
      }
      reset_limits(tx);
      plan_reads_again();
    } catch (...) {
      rethrow_as_database_error(dsn_);
    }
  }

 private:
  // A generic plan is made at a prepared statement's first run and kept for as long as it is.
  // One made while the database's catalog was small (a new database, its first tables) scans
  // pg_index and pg_inherits whole, and the catalog may grow by thousands of rows while the
  // session lives: after 900 partitions were created, such a read took 237 ms instead of
  // 0.3 ms. Transactions and autocommit statements are how partop changes the catalog, so after
  // each one the session prepares its reads again at their next run (in that batch's round
  // trip), and their plans are made for the catalog as it is now. A transaction that only moved
  // rows costs its session one planning of the next reads.
  void plan_reads_again() {
    if (prepared_.empty()) return;
    prepared_.clear();
    forget_prepared_ = true;
  }

  // EXECUTE of `statement`, PREPAREd first in `pipeline` when this session has not yet.
  std::string execute_sql(pqxx::pipeline& pipeline, const SqlStatement& statement) {
    auto found = prepared_.find(statement.sql);
    if (found == prepared_.end()) {
      // Texts with values in them would pile up: past the bound, start again from none.
      if (prepared_.size() == kMaxPreparedStatements) {
        pipeline.insert("DEALLOCATE ALL");
        prepared_.clear();
      }
      const std::string name = "partop_" + std::to_string(++prepared_count_);
      pipeline.insert("PREPARE " + name + " AS " + statement.sql);
      found = prepared_.emplace(statement.sql, name).first;
    }
    std::string arguments;
    for (const auto& value : statement.params) {
      arguments += arguments.empty() ? "" : ", ";
      arguments += value ? "'" + connection_->esc(*value) + "'" : "NULL";
    }
    return "EXECUTE " + found->second + "(" + arguments + ")";
  }

  void reset_limits(pqxx::nontransaction& tx) const {
    for (const auto& statement : autocommit_epilogue(read_lock_timeout_)) tx.exec(statement);
  }

  std::string dsn_;
  std::chrono::milliseconds read_lock_timeout_;
  std::unique_ptr<pqxx::connection> connection_;
  static constexpr size_t kMaxPreparedStatements = 64;
  std::unordered_map<std::string, std::string> prepared_;  // statement text -> its name
  uint64_t prepared_count_ = 0;                            // names are never reused
  bool forget_prepared_ = false;  // DEALLOCATE ALL first: which ones exist is not known
};

// One connection LISTENing on one channel; payloads queue in arrival order.
class PgNotificationListener : public NotificationListener {
 public:
  PgNotificationListener(const std::string& dsn, const std::string& channel) : dsn_(dsn) {
    try {
      connection_ =
          std::make_unique<pqxx::connection>(conninfo_with_settings(dsn, "partop-listener", {}));
      receiver_ = std::make_unique<Receiver>(*connection_, channel, payloads_);  // LISTENs
    } catch (...) {
      rethrow_as_database_error(dsn_);
    }
  }

  std::optional<std::string> wait(std::chrono::milliseconds timeout) override {
    try {
      if (payloads_.empty()) {
        const long micros = static_cast<long>(timeout.count()) * 1000;
        // Throws broken_connection when the server is gone.
        connection_->await_notification(micros / 1000000, micros % 1000000);
      }
    } catch (...) {
      rethrow_as_database_error(dsn_);
    }
    if (payloads_.empty()) return std::nullopt;
    std::string payload = std::move(payloads_.front());
    payloads_.pop_front();
    return payload;
  }

 private:
  class Receiver : public pqxx::notification_receiver {
   public:
    Receiver(pqxx::connection_base& connection, const std::string& channel,
             std::deque<std::string>& payloads)
        : pqxx::notification_receiver(connection, channel), payloads_(payloads) {}
    void operator()(const std::string& payload, int) override { payloads_.push_back(payload); }

   private:
    std::deque<std::string>& payloads_;
  };

  std::string dsn_;
  std::deque<std::string> payloads_;
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<Receiver> receiver_;  // declared after connection_: destroyed before it
};

// 'value' for a key=value connection string: backslashes and single quotes escaped.
std::string conninfo_value(const std::string& value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// One word of the startup options (libpq splits them at unescaped spaces).
std::string options_word(const std::string& word) {
  std::string out;
  for (const char c : word) {
    if (c == ' ' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string conninfo_with_settings(
    const std::string& dsn, const std::string& application_name,
    const std::vector<std::pair<std::string, std::string>>& settings) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &error);
  if (parsed == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    // libpq quotes the part of the string it stumbled on, which may hold the password.
    message = std::regex_replace(message, std::regex("\"[^\"]*\""), "(…)");
    throw DatabaseError("connection string " + redact_dsn(dsn) + " is not valid: " + message, "");
  }
  std::string out;
  std::string options;
  if (const char* environment = std::getenv("PGOPTIONS")) options = environment;
  bool connect_timeout_given = std::getenv("PGCONNECT_TIMEOUT") != nullptr;
  for (const PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    const std::string keyword = option->keyword;
    if (keyword == "connect_timeout") connect_timeout_given = true;
    if (keyword == "options") {
      options = option->val;
    } else if (keyword != "application_name") {
      out += keyword + "=" + conninfo_value(option->val) + " ";
    }
  }
  PQconninfoFree(parsed);
  for (const auto& [name, value] : settings) {
    options += (options.empty() ? "" : " ") + std::string("-c ") + options_word(name + "=" + value);
  }
  // libpq's default is to wait as long as the kernel does (minutes for a host that drops packets).
  if (!connect_timeout_given)
    out += "connect_timeout=" + std::to_string(kConnectTimeoutSeconds) + " ";
  return out + "application_name=" + conninfo_value(application_name) +
         " options=" + conninfo_value(options);
}

std::unique_ptr<NotificationListener> PgNotificationConnector::listen(const std::string& dsn,
                                                                      const std::string& channel) {
  return std::make_unique<PgNotificationListener>(dsn, channel);
}

std::unique_ptr<DatabaseSession> open_pg_session(const std::string& dsn,
                                                 std::chrono::milliseconds read_lock_timeout) {
  return std::make_unique<PgSession>(dsn, read_lock_timeout);
}

}  // namespace partop

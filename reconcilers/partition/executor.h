// Applies planned actions under guards: one committed transaction per action (or one autocommit
// statement for concurrent index builds), each preceded by the replication-lag breaker and a
// check for sessions holding conflicting locks, and bounded by lock_timeout/statement_timeout.
// A guard outcome stops the run (the rest waits for the next reconcile); an ordinary SQL error
// fails only its own action (an action of packed members retries them one by one first).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "reconcilers/partition/action.h"
#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/planner.h"
#include "reconcilers/partition/policy.h"

namespace partop {

struct Execution {
  std::vector<std::string> applied;        // summaries of committed actions
  std::vector<std::string> failures;       // "summary: error" of actions that rolled back
  std::vector<std::string> not_run;        // summaries of actions left for a later reconcile
  std::vector<ExpectedPartition> created;  // partitions committed by this run, to verify
  std::optional<Finding> stopped;          // the guard outcome that ended the run early
  int64_t rows_drained = 0;
  std::vector<ActionKind> applied_kinds;

  // Adds what `later` did after this run (its stop, if any, becomes this run's).
  void append(Execution later);
};

// Asked before each action; true ends the run there (a shutdown finishes the current step only).
using StopRequested = std::function<bool()>;

class Executor {
 public:
  Executor(DatabaseSession& session, const GuardSpec& guards, StopRequested stop_requested = {});
  Execution execute(const std::vector<Action>& actions);

  // Exactly the SQL execute() sends for `action`, preamble included, in order, on a session
  // opened with the policy's lock timeout for reads (as partop's commands and operator do).
  static std::vector<std::string> rendered_sql(const Action& action, const GuardSpec& guards);

 private:
  // A guard outcome that stops the run before `action`, if any.
  std::optional<Finding> check_guards(const Action& action);
  // Runs the action's SQL and records it in `run`; throws DatabaseError.
  void apply(const Action& action, Execution& run);

  DatabaseSession& session_;
  StopRequested stop_requested_;
  GuardSpec guards_;
};

}  // namespace partop

#include "reconcilers/partition/executor.h"

#include <algorithm>
#include <set>

#include "reconcilers/document/duration.h"
#include "reconcilers/partition/crash_point.h"
#include "reconcilers/partition/guards.h"

namespace partop {
namespace {

// The limits one action runs under: long steps have their own statement timeout.
StatementLimits limits_of(const GuardSpec& guards, ActionKind kind) {
  switch (kind) {
    case ActionKind::kDrainDefault:
    case ActionKind::kFillSlice:  // rows moved in bulk, like a drain
      return {guards.lock_timeout, guards.drain_timeout};
    case ActionKind::kBuildPartitionIndex:
    case ActionKind::kRebuildIndex:
    case ActionKind::kPrepareShadow:  // builds on a table nobody else uses yet
    case ActionKind::kFinishShadow:   // validates foreign keys, ANALYZE
      return {guards.lock_timeout, guards.index_build_timeout};
    default:
      return {guards.lock_timeout, guards.statement_timeout};
  }
}

// A guard outcome for an error the server raised, or nullopt for an ordinary failure.
std::optional<Finding> classify(const DatabaseError& error, const StatementLimits& limits,
                                const Action& action) {
  if (error.is_lock_timeout()) {
    return Finding{Finding::Severity::kWarning, "LockTimeout",
                   action.summary + ": lock not granted within lock_timeout " +
                       format_duration(limits.lock_timeout) + "; will retry with backoff"};
  }
  if (error.is_statement_timeout()) {
    return Finding{Finding::Severity::kWarning, "StatementTimeout",
                   action.summary + ": cancelled after statement_timeout " +
                       format_duration(limits.statement_timeout) + "; will retry with backoff"};
  }
  if (error.is_transaction_rollback()) {
    return Finding{Finding::Severity::kWarning, "ConcurrentUpdate",
                   action.summary + ": rolled back by the server (" + error.what() +
                       "); nothing of it was applied, will retry"};
  }
  if (error.is_partop_conflict()) {
    // partop's own check inside the step's transaction: the world changed since planning.
    return Finding{Finding::Severity::kWarning, "Conflict", action.summary + ": " + error.what()};
  }
  if (error.is_insufficient_privilege()) {
    // Not transient: a human must grant it. Everything after this step would fail the same way.
    return Finding{Finding::Severity::kWarning, "InsufficientPrivilege",
                   action.summary + ": " + error.what() +
                       " (partop's role needs membership in the role that owns the table)"};
  }
  if (error.is_connection_failure()) {
    return Finding{Finding::Severity::kWarning, "DatabaseUnavailable",
                   action.summary + ": " + error.what()};
  }
  return std::nullopt;
}

}  // namespace

Executor::Executor(DatabaseSession& session, const GuardSpec& guards, StopRequested stop_requested)
    : session_(session), stop_requested_(std::move(stop_requested)), guards_(guards) {}

std::vector<std::string> Executor::rendered_sql(const Action& action, const GuardSpec& guards) {
  const StatementLimits limits = limits_of(guards, action.kind);
  std::vector<std::string> out;
  if (action.transactional) {
    out.push_back("BEGIN");
    for (auto& s : DatabaseSession::transaction_preamble(limits)) out.push_back(std::move(s));
    out.insert(out.end(), action.statements.begin(), action.statements.end());
    out.push_back("COMMIT");
  } else {
    for (auto& s : DatabaseSession::autocommit_preamble(limits)) out.push_back(std::move(s));
    out.insert(out.end(), action.statements.begin(), action.statements.end());
    for (auto& s : DatabaseSession::autocommit_epilogue(guards.lock_timeout))
      out.push_back(std::move(s));
  }
  return out;
}

std::optional<Finding> Executor::check_guards(const Action& action) {
  const auto held =
      step_held_back(session_, action.locks, guards_.max_replication_lag,
                     action.queues_behind_short_transactions ? guards_.lock_timeout
                                                             : std::chrono::milliseconds{0});
  if (!held) return std::nullopt;
  return Finding{
      Finding::Severity::kWarning, held->reason,
      held->reason == "LockTimeout" ? action.summary + ": " + held->message : held->message};
}

void Executor::apply(const Action& action, Execution& run) {
  const std::string kind(action_kind_name(action.kind));
  if (action.transactional) {
    run.rows_drained += session_.run_transaction(action.statements, limits_of(guards_, action.kind),
                                                 action.moved_rows_statement,
                                                 [&] { crash_point("before-commit:" + kind); });
  } else {
    for (const auto& statement : action.statements)
      session_.run_autocommit(statement, limits_of(guards_, action.kind));
  }
  crash_point("after-commit:" + kind);
  run.applied.push_back(action.summary);
  // Each packed member is a step of its own kind (metrics and Events count steps).
  if (action.members.empty()) run.applied_kinds.push_back(action.kind);
  for (const Action& member : action.members) run.applied_kinds.push_back(member.kind);
  run.created.insert(run.created.end(), action.creates.begin(), action.creates.end());
}

void Execution::append(Execution later) {
  const auto move_into = [](auto& into, auto& from) {
    into.insert(into.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
  };
  move_into(applied, later.applied);
  move_into(failures, later.failures);
  move_into(not_run, later.not_run);
  move_into(created, later.created);
  move_into(applied_kinds, later.applied_kinds);
  rows_drained += later.rows_drained;
  if (later.stopped) stopped = std::move(later.stopped);
}

Execution Executor::execute(const std::vector<Action>& actions) {
  Execution run;
  std::set<std::string> unavailable;  // `provides` of actions not applied in this run
  for (size_t i = 0; i < actions.size() && !run.stopped; ++i) {
    const Action& action = actions[i];
    const bool dependency_missing =
        std::any_of(action.needs.begin(), action.needs.end(),
                    [&](const std::string& name) { return unavailable.count(name) > 0; });
    unavailable.insert(action.provides.begin(), action.provides.end());
    if (dependency_missing) {
      run.not_run.push_back(action.summary);
      continue;
    }
    bool members_ran = false;  // the members' run reported every one of them
    if (stop_requested_ && stop_requested_()) {
      run.stopped = Finding{Finding::Severity::kWarning, "ShuttingDown",
                            "stopped before " + action.summary + " on shutdown"};
    } else {
      try {
        run.stopped = check_guards(action);
        if (!run.stopped) {
          apply(action, run);
          for (const std::string& name : action.provides) unavailable.erase(name);
        }
      } catch (const DatabaseError& error) {
        run.stopped = classify(error, limits_of(guards_, action.kind), action);
        if (!run.stopped && !action.members.empty()) {
          // Which member failed is not known: each goes alone, the good ones are applied.
          Execution alone = execute(action.members);
          if (alone.failures.empty() && !alone.stopped) {
            for (const std::string& name : action.provides) unavailable.erase(name);
          }
          run.append(std::move(alone));
          members_ran = true;
        } else if (!run.stopped) {
          run.failures.push_back(action.summary + ": " + error.what());
        }
      }
    }
    if (run.stopped) {
      for (size_t j = members_ran ? i + 1 : i; j < actions.size(); ++j)
        run.not_run.push_back(actions[j].summary);
    }
  }
  return run;
}

}  // namespace partop

#include "reconcilers/partition/step_run.h"

namespace partop {

bool lock_table(DatabaseSession& session, const QualifiedName& table, ReconcileMode mode,
                std::optional<TableLock>& lock, Outcome& outcome) {
  if (mode != ReconcileMode::kApply) return true;
  lock.emplace(session, table.display());
  if (lock->state() != TableLock::State::kBusy) return true;
  outcome.retry_with_backoff = true;
  set_summary_conditions(outcome, false, "Busy",
                         "another partop process is working on " + table.display(), true);
  return false;
}

void report_stopped(Outcome& outcome, const Execution& run) {
  for (const auto& summary : run.not_run) outcome.actions_pending.push_back(summary);
  if (run.stopped) {
    outcome.findings.push_back(*run.stopped);
    outcome.retry_with_backoff = run.stopped->reason != "ShuttingDown";
    set_summary_conditions(outcome, false, run.stopped->reason, run.stopped->message,
                           !needs_human(run.stopped->reason));
  } else {
    outcome.retry_with_backoff = true;
    set_summary_conditions(outcome, false, "ActionFailed", run.failures.front(), true);
  }
}

AppliedSteps::AppliedSteps(Outcome& outcome, ActionKind repeated, std::string repeated_verb,
                           std::string repeated_noun)
    : outcome_(outcome),
      repeated_(repeated),
      verb_(std::move(repeated_verb)),
      noun_(std::move(repeated_noun)) {}

void AppliedSteps::record(const Execution& run) {
  for (size_t i = 0; i < run.applied.size(); ++i) {
    if (run.applied_kinds[i] == repeated_) {
      ++count_;
    } else {
      outcome_.actions_taken.push_back(run.applied[i]);
      outcome_.applied_kinds.push_back(run.applied_kinds[i]);
    }
  }
  outcome_.rows_drained += run.rows_drained;
}

void AppliedSteps::report_repeated() {
  if (count_ == 0) return;
  outcome_.actions_taken.push_back(verb_ + " " + std::to_string(count_) + " " + noun_);
  count_ = 0;
}

}  // namespace partop

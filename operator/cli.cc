#include "operator/cli.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "operator/controller/partition_backfill_controller.h"
#include "operator/controller/partition_migration_controller.h"
#include "operator/controller/partition_policy_controller.h"
#include "operator/manager.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/file_source.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"
#include "operator/runtime/manager.h"
#include "reconcilers/backfill/backfill_parser.h"
#include "reconcilers/backfill/backfill_reconciler.h"
#include "reconcilers/list/list_reconciler.h"
#include "reconcilers/migration/migration_parser.h"
#include "reconcilers/migration/migration_reconciler.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/pg_session.h"
#include "reconcilers/partition/policy_parser.h"
#include "reconcilers/partition/reconciler.h"
#include "reconcilers/partition/session_pool.h"
#include "reconcilers/partition/sql_text.h"

namespace partop::cli {
namespace {

using nlohmann::json;

// `partop run` reconciles this many policies at once (one database connection each).
constexpr int kRunWorkers = 2;

bool is_migration(const json& document) {
  return document.value("kind", json()) == kMigrationKind;
}

bool is_backfill(const json& document) {
  return document.value("kind", json()) == kBackfillKind;
}

bool is_policy(const json& document) {
  return !is_migration(document) && !is_backfill(document);
}

// The documents of the -f paths, one source per kind (a document of no known kind goes with the
// policies, which report it). Files that cannot be read or are not YAML are reported on stderr
// and make the command exit 2; a duplicate name within a kind is reported and exits 1.
struct Loaded {
  std::unique_ptr<runtime::FileSource> source;      // PartitionPolicy
  std::unique_ptr<runtime::FileSource> migrations;  // PartitionMigration
  std::unique_ptr<runtime::FileSource> backfills;   // PartitionBackfill
  bool file_errors = false;
  bool duplicates = false;
};

Loaded load(const std::vector<std::string>& paths) {
  Loaded loaded;
  loaded.source = std::make_unique<runtime::FileSource>(paths, is_policy);
  loaded.migrations = std::make_unique<runtime::FileSource>(paths, is_migration);
  loaded.backfills = std::make_unique<runtime::FileSource>(paths, is_backfill);
  for (const auto& problem : loaded.source->load()) {
    std::cerr << "partop: " << problem.message << "\n";
    (problem.unreadable ? loaded.file_errors : loaded.duplicates) = true;
  }
  for (auto* kind : {loaded.migrations.get(), loaded.backfills.get()}) {
    for (const auto& problem : kind->load()) {
      if (problem.unreadable) continue;  // reported above
      std::cerr << "partop: " << problem.message << "\n";
      loaded.duplicates = true;
    }
  }
  return loaded;
}

std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) {
  g_stop_requested = true;
}

// The one-shot backend: like `partop run`'s, but it keeps each object's latest outcome for
// printing instead of logging it, in the order the objects were first reported.
class CollectingBackend : public controller::FixedDsnBackend {
 public:
  using FixedDsnBackend::FixedDsnBackend;
  std::string report(const json& object, const Outcome& outcome) override {
    const auto [it, first] = index_.emplace(runtime::object_key(object), outcomes_.size());
    if (first) {
      outcomes_.push_back(outcome);
    } else {
      outcomes_[it->second] = outcome;
    }
    return "";
  }
  const std::vector<Outcome>& outcomes() const { return outcomes_; }

 private:
  std::vector<Outcome> outcomes_;
  std::map<std::string, size_t> index_;
};

void print_text(const Outcome& outcome) {
  const Condition* ready = outcome.condition("Ready");
  std::cout << outcome.policy << " (" << (outcome.table.empty() ? "?" : outcome.table)
            << "): Ready=" << (ready ? ready->status : "Unknown") << " "
            << (ready ? ready->reason : "") << "\n";
  if (ready != nullptr && !ready->message.empty()) std::cout << "  " << ready->message << "\n";
  if (!outcome.table.empty() && outcome.key_type) {
    const auto bound = [&](const std::optional<KeyValue>& v) {
      return v ? key_display(*outcome.key_type, *v) : std::string("-");
    };
    std::cout << "  partitions: " << outcome.figures.partition_count
              << "  oldest: " << bound(outcome.figures.oldest_lower)
              << "  newest: " << bound(outcome.figures.newest_upper)
              << "  buffered until: " << bound(outcome.figures.buffered_until)
              << "  default rows: " << outcome.figures.default_rows
              << "  invalid indexes: " << outcome.figures.invalid_indexes << "\n";
  }
  if (const auto& m = outcome.migration) {
    std::cout << "  migration: phase " << (m->phase.empty() ? "-" : m->phase) << "  target "
              << m->target << "  rows copied: " << m->rows_copied
              << "  remaining (estimate): " << m->rows_remaining << "  swaps: " << m->swaps
              << "  last swap: " << (m->last_swap_time.empty() ? "-" : m->last_swap_time) << "\n";
  }
  if (const auto& b = outcome.backfill) {
    std::cout << "  backfill: " << b->done << "/" << b->total << " partition(s) rebuilt"
              << "  rows written: " << b->rows_written << "  set aside: " << b->set_aside
              << "  rebuilding: " << (b->current.empty() ? "-" : b->current) << "\n";
  }
  if (outcome.rows_drained > 0)
    std::cout << "  rows drained from DEFAULT: " << outcome.rows_drained << "\n";
  for (const auto& action : outcome.actions_taken) std::cout << "  applied: " << action << "\n";
  for (const auto& action : outcome.actions_pending) std::cout << "  pending: " << action << "\n";
  for (const auto& finding : outcome.findings) {
    std::cout << "  " << finding.reason << ": " << finding.message << "\n";
  }
  for (const auto& condition : outcome.conditions) {
    if (condition.type == "Ready") continue;
    std::cout << "  " << condition.type << "=" << condition.status << " " << condition.reason
              << "\n";
  }
}

// A parsed document of a kind built on the policy engine: the resource, or the errors' summary.
template <typename Resource>
struct ParsedResource {
  std::optional<Resource> resource;
  std::string errors;
};

template <typename Parsed, typename Resource>
ParsedResource<Resource> to_resource(const Parsed& parsed,
                                     std::optional<Resource> Parsed::*resource) {
  return {parsed.*resource, parsed.ok() ? "" : parsed.error_summary()};
}

// A PartitionBackfill document with its policyRef followed to the policies of the same files.
ParsedResource<Backfill> backfill_resource(const json& document,
                                           const runtime::ObjectStore& policies) {
  const ResolvedDocument resolved = controller::BackfillKind::resolve(document, policies);
  if (!resolved.document) return {std::nullopt, resolved.message};
  return to_resource(parse_backfill(*resolved.document), &ParsedBackfill::backfill);
}

// Reconciles each document of `source` once (PartitionMigration, PartitionBackfill): `parse`
// turns it into a ParsedResource, `reconcile` runs it on a fresh session. An invalid document
// becomes InvalidSpec, a database that cannot be reached DatabaseUnavailable.
template <typename Parse, typename Reconcile>
void reconcile_each(const runtime::FileSource& source, const CommandOptions& options,
                    std::vector<Outcome>& outcomes, Parse parse, Reconcile reconcile) {
  for (const auto& key : source.keys()) {
    const auto parsed = parse(*source.get(key));
    if (!parsed.resource) {
      outcomes.push_back(invalid_spec_outcome(key, parsed.errors));
      continue;
    }
    const auto& resource = *parsed.resource;
    try {
      const auto session = open_pg_session(options.dsn, resource.spec.guards.lock_timeout);
      outcomes.push_back(reconcile(*session, resource));
    } catch (const DatabaseError& error) {
      Outcome outcome;
      outcome.policy = resource.key();
      outcome.table = resource.spec.table.display();
      set_summary_conditions(outcome, false, error.unavailable_reason(), error.what(), false);
      outcomes.push_back(outcome);
    }
  }
}

// Reconciles the `held_back` keys again, after the operator's guard backoff, until none is held
// back, `retry_for` would be exceeded by the next wait, or a stop is requested.
void retry_held_back(controller::PartitionPolicyController& controller,
                     std::vector<std::string> held_back, std::chrono::milliseconds retry_for) {
  const runtime::BackoffPolicy backoff = runtime::ControllerOptions{}.guard_backoff;
  const auto deadline = std::chrono::steady_clock::now() + retry_for;
  for (int retries = 0; !held_back.empty() && !g_stop_requested; ++retries) {
    const auto retry_at = std::chrono::steady_clock::now() + backoff.delay(retries);
    if (retry_at > deadline) return;
    while (!g_stop_requested && std::chrono::steady_clock::now() < retry_at)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (g_stop_requested) return;
    std::vector<std::string> still;
    for (const auto& key : held_back) {
      if (controller.reconcile(key).next == runtime::Result::Next::kGuardDeferred)
        still.push_back(key);
    }
    held_back = std::move(still);
  }
}

// Reconciles each loaded policy once through the PartitionPolicy controller (invalid ones
// become InvalidSpec outcomes, a second claim on a table Conflict), prints the outcomes and
// returns the exit code.
int reconcile_files(const CommandOptions& options, ReconcileMode mode) {
  const Loaded loaded = load(options.files);
  auto backend = std::make_unique<CollectingBackend>(options.dsn);
  CollectingBackend& collected = *backend;
  PgConnector connector;
  runtime::Metrics metrics;
  runtime::TableClaims claims;
  controller::add_policy_claims(claims, loaded.source->store(), collected);
  controller::PartitionPolicyController controller(loaded.source->store(), claims,
                                                   std::move(backend), connector, system_clock(),
                                                   metrics, {}, mode);
  std::vector<std::string> held_back;
  for (const auto& key : loaded.source->keys()) {
    if (controller.reconcile(key).next == runtime::Result::Next::kGuardDeferred)
      held_back.push_back(key);
  }
  // From here Ctrl-C or SIGTERM stops the work between two steps: the retries of held-back
  // policies, and a migration, which runs until its target is reached or something stops it.
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  retry_held_back(controller, held_back, options.retry_for);
  std::vector<Outcome> outcomes = collected.outcomes();
  const StopRequested stop = [] { return g_stop_requested.load(); };
  const MigrationReconciler migrations(system_clock(), stop, std::chrono::milliseconds{0});
  reconcile_each(
      *loaded.migrations, options, outcomes,
      [&](const json& document) {
        return to_resource(parse_migration(document), &ParsedMigration::migration);
      },
      [&](DatabaseSession& session, const Migration& migration) {
        return migrations.reconcile(session, migration, mode);
      });
  const BackfillReconciler backfills(system_clock(), stop, std::chrono::milliseconds{0});
  reconcile_each(
      *loaded.backfills, options, outcomes,
      [&](const json& document) { return backfill_resource(document, loaded.source->store()); },
      [&](DatabaseSession& session, const Backfill& backfill) {
        return backfills.reconcile(session, backfill, mode);
      });
  if (options.output == "json") {
    json out = {{"policies", json::array()}};
    for (const auto& outcome : outcomes) out["policies"].push_back(outcome.to_json());
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    for (const auto& outcome : outcomes) print_text(outcome);
  }
  if (loaded.file_errors) return kExitUsage;
  const bool all_ready =
      std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.ready(); });
  return all_ready && !loaded.duplicates ? kExitReady : kExitNotReady;
}

// Prints a plan's findings and each step's exact SQL; false when a finding blocks the plan.
bool print_plan(const std::vector<Finding>& findings, const std::vector<Action>& actions,
                const GuardSpec& guards) {
  bool clean = true;
  for (const auto& finding : findings) {
    std::cout << "-- " << finding.reason << ": " << finding.message << "\n";
    if (finding.severity == Finding::Severity::kBlocking) clean = false;
  }
  for (size_t i = 0; i < actions.size(); ++i) {
    std::cout << "-- " << (i + 1) << ". " << actions[i].summary << "\n";
    for (const auto& statement : Executor::rendered_sql(actions[i], guards)) {
      std::cout << statement << ";\n";
    }
  }
  return clean;
}

// Prints what a range policy's reconcile would run; `what` heads it ("policy", "tenant").
bool print_range_plan(DatabaseSession& session, const Policy& policy, const std::string& what) {
  const Plan plan = PartitionReconciler(system_clock()).observe_and_plan(session, policy).plan;
  std::cout << "-- " << what << " " << policy.key() << " (" << policy.spec.table.display()
            << "): " << plan.actions.size() << " action(s)\n";
  return print_plan(plan.findings, plan.actions, policy.spec.guards);
}

// Prints a list policy's plan: the list level, then each existing tenant's sub-tree. A tenant
// whose partition the list level creates has its sub-tree planned by the reconcile after that.
bool print_list_plan(DatabaseSession& session, const Policy& policy) {
  const ListPlan plan =
      ListPartitionReconciler(system_clock()).observe_and_plan(session, policy).plan;
  std::cout << "-- policy " << policy.key() << " (" << policy.spec.table.display()
            << ", list): " << plan.tenants.size() << " tenant(s), " << plan.plan.actions.size()
            << " action(s) on the list level\n";
  bool clean = print_plan(plan.plan.findings, plan.plan.actions, policy.spec.guards);
  std::set<std::string> planned;
  for (const ListTenant& tenant : plan.tenants) {
    if (tenant.problem) {
      std::cout << "-- tenant " << sql::literal(tenant.value) << ": " << tenant.problem->reason
                << ": " << tenant.problem->message << "\n";
    } else if (!tenant.exists && policy.spec.has_interval()) {
      std::cout << "-- tenant " << sql::literal(tenant.value) << ": its sub-tree is planned once "
                << tenant.partition.display() << " exists\n";
    } else if (tenant.sub_tree && planned.insert(tenant.partition.display()).second) {
      clean &= print_range_plan(session, sub_tree_policy(policy, tenant), "tenant");
    }
  }
  return clean;
}

// Prints the plan of each document of `source` (PartitionMigration, PartitionBackfill) through
// `print(session, resource)`; false when one is invalid, unreachable or blocked.
template <typename Parse, typename Print>
bool plan_each(const runtime::FileSource& source, const CommandOptions& options, const char* kind,
               Parse parse, Print print) {
  bool all_clean = true;
  for (const auto& key : source.keys()) {
    const auto parsed = parse(*source.get(key));
    if (!parsed.resource) {
      std::cout << "-- " << kind << " " << key << ": InvalidSpec: " << parsed.errors << "\n";
      all_clean = false;
      continue;
    }
    const auto& resource = *parsed.resource;
    try {
      const auto session = open_pg_session(options.dsn, resource.spec.guards.lock_timeout);
      all_clean &= print(*session, resource);
    } catch (const DatabaseError& error) {
      std::cout << "-- " << kind << " " << resource.key()
                << ": DatabaseUnavailable: " << error.what() << "\n";
      all_clean = false;
    }
  }
  return all_clean;
}

}  // namespace

int run_plan(const CommandOptions& options) {
  const Loaded loaded = load(options.files);
  const controller::FixedDsnBackend backend(options.dsn);
  runtime::TableClaims claims;
  controller::add_policy_claims(claims, loaded.source->store(), backend);
  bool all_clean = !loaded.duplicates;
  for (const auto& key : loaded.source->keys()) {
    const auto object = loaded.source->get(key);
    const ParsedPolicy parsed = parse_policy(*object);
    if (!parsed.ok()) {
      std::cout << "-- policy " << key << ": InvalidSpec: " << parsed.error_summary() << "\n";
      all_clean = false;
      continue;
    }
    const Policy& policy = *parsed.policy;
    if (auto owner =
            claims.owner_other_than(controller::kPolicyKind, *object, policy.spec.table.display(),
                                    redact_dsn(options.dsn))) {
      std::cout << "-- policy " << policy.key() << ": Conflict: table "
                << policy.spec.table.display() << " is already managed by " << *owner << "\n";
      all_clean = false;
      continue;
    }
    try {
      const auto session = open_pg_session(options.dsn, policy.spec.guards.lock_timeout);
      all_clean &= policy.spec.list ? print_list_plan(*session, policy)
                                    : print_range_plan(*session, policy, "policy");
    } catch (const DatabaseError& error) {
      std::cout << "-- policy " << policy.key() << ": DatabaseUnavailable: " << error.what()
                << "\n";
      all_clean = false;
    }
  }
  all_clean &= plan_each(
      *loaded.migrations, options, "migration",
      [](const json& document) {
        return to_resource(parse_migration(document), &ParsedMigration::migration);
      },
      [](DatabaseSession& session, const Migration& migration) {
        const PlannedMigration planned =
            MigrationReconciler(system_clock(), {}, std::chrono::milliseconds{0})
                .observe_and_plan(session, migration);
        const MigrationPlan& plan = planned.plan;
        std::vector<Action> steps = plan.maintenance;  // the twin's layout comes first
        steps.insert(steps.end(), plan.actions.begin(), plan.actions.end());
        std::cout << "-- migration " << migration.key() << " (" << migration.spec.table.display()
                  << "): phase " << (plan.phase.empty() ? "-" : plan.phase) << ", target "
                  << target_name(migration.spec.target) << ", " << steps.size()
                  << " step(s) in this phase"
                  << (plan.copying ? " (a copy batch repeats until every row is copied)" : "")
                  << "\n";
        return print_plan(plan.findings, steps, migration.spec.guards);
      });
  all_clean &= plan_each(
      *loaded.backfills, options, "backfill",
      [&](const json& document) { return backfill_resource(document, loaded.source->store()); },
      [](DatabaseSession& session, const Backfill& backfill) {
        const BackfillPlan plan =
            BackfillReconciler(system_clock(), {}, std::chrono::milliseconds{0})
                .observe_and_plan(session, backfill)
                .plan;
        const BackfillProgress& progress = plan.progress;
        std::cout << "-- backfill " << backfill.key() << " (" << backfill.spec.table.display()
                  << " from " << backfill.spec.source.display() << "): " << progress.done << "/"
                  << progress.total << " partition(s) rebuilt"
                  << (plan.complete              ? ", complete"
                      : progress.current.empty() ? ""
                                                 : "; next steps for " + progress.current)
                  << (plan.filling ? " (a fill slice repeats until the partition is filled)" : "")
                  << "\n";
        return print_plan(plan.findings, plan.actions, backfill.spec.guards);
      });
  if (loaded.file_errors) return kExitUsage;
  return all_clean ? kExitReady : kExitNotReady;
}

int run_apply(const CommandOptions& options) {
  return reconcile_files(options, ReconcileMode::kApply);
}

int run_status(const CommandOptions& options) {
  return reconcile_files(options, ReconcileMode::kObserve);
}

int run_loop(const CommandOptions& options) {
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  // The operator's runtime with a directory for a source and --dsn for every database: the
  // same controller, queue, backoff and conflict rule and metrics; no probes, no leader election.
  runtime::ManagerOptions manager_options{{}, options.metrics_bind_address, "0", std::nullopt};
  runtime::Manager manager(manager_options, system_clock(), nullptr);
  manager.add_source(controller::partition_policies(),
                     std::make_unique<runtime::FileSource>(
                         std::vector<std::string>{options.policies_dir}, is_policy));
  manager.add_source(controller::partition_migrations(),
                     std::make_unique<runtime::FileSource>(
                         std::vector<std::string>{options.policies_dir}, is_migration));
  manager.add_source(controller::partition_backfills(),
                     std::make_unique<runtime::FileSource>(
                         std::vector<std::string>{options.policies_dir}, is_backfill));
  PgConnector postgres;
  SessionPool connector(postgres, {kRunWorkers, kIdleConnectionTimeout});
  PgNotificationConnector notifications;
  controller::add_partition_policy_controller(
      manager, std::make_unique<controller::FixedDsnBackend>(options.dsn), connector, notifications,
      kRunWorkers);
  controller::add_sliced_controller<controller::MigrationKind>(
      manager, std::make_unique<controller::FixedDsnBackend>(options.dsn), connector, kRunWorkers);
  controller::add_sliced_controller<controller::BackfillKind>(
      manager, std::make_unique<controller::FixedDsnBackend>(options.dsn), connector, kRunWorkers);
  runtime::log(runtime::LogLevel::kInfo, "partop run started",
               {{"policies", options.policies_dir}, {"dsn", redact_dsn(options.dsn)}});
  const int code = manager.run(g_stop_requested);
  runtime::log(runtime::LogLevel::kInfo, "partop run stopped");
  return code;
}

int run_operator_command(const OperatorOptions& options) {
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  return run_operator(options, g_stop_requested);
}

}  // namespace partop::cli

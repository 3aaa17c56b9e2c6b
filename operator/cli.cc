#include "operator/cli.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "operator/manager.h"
#include "operator/runtime/log.h"
#include "reconcilers/partition/executor.h"
#include "reconcilers/partition/pg_session.h"
#include "reconcilers/partition/policy_parser.h"
#include "reconcilers/partition/reconciler.h"

namespace partop::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::vector<std::string> files;
  std::string policies_dir;
  std::string dsn;
  bool json_output = false;
};

Options parse_options(const std::vector<std::string>& args, bool allow_files, bool allow_dir) {
  Options options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (allow_files && (arg == "-f" || arg == "--filename")) {
      options.files.push_back(value());
    } else if (allow_dir && arg == "--policies") {
      options.policies_dir = value();
    } else if (arg == "--dsn") {
      options.dsn = value();
    } else if (arg == "-o" || arg == "--output") {
      const std::string format = value();
      if (format != "json" && format != "text")
        throw UsageError("-o takes json or text, got " + format);
      options.json_output = format == "json";
    } else {
      throw UsageError("unknown argument \"" + arg + "\"");
    }
  }
  if (options.dsn.empty()) {
    if (const char* env = std::getenv("PARTOP_DSN")) options.dsn = env;
  }
  if (options.dsn.empty()) throw UsageError("no database: pass --dsn URI or set PARTOP_DSN");
  if (allow_files && options.files.empty()) throw UsageError("no policy file: pass -f FILE");
  if (allow_dir && options.policies_dir.empty())
    throw UsageError("no policy directory: pass --policies DIR");
  return options;
}

std::vector<std::string> policy_files(const std::string& path) {
  if (!fs::is_directory(path)) return {path};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    const auto extension = entry.path().extension();
    if (entry.is_regular_file() && (extension == ".yaml" || extension == ".yml")) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// True when the file itself could not be used (unreadable or not YAML): a usage-level error.
bool unreadable(const std::vector<ParsedPolicy>& parsed) {
  return parsed.size() == 1 && !parsed[0].errors.empty() &&
         (parsed[0].errors[0].field == "(yaml)" || parsed[0].errors[0].message == "cannot be read");
}

struct Loaded {
  std::vector<ParsedPolicy> policies;
  bool file_errors = false;
};

Loaded load(const std::vector<std::string>& paths) {
  Loaded loaded;
  for (const auto& path : paths) {
    for (const auto& file : policy_files(path)) {
      auto parsed = parse_policy_file(file);
      if (unreadable(parsed)) {
        std::cerr << "partop: " << file << ": " << parsed[0].error_summary() << "\n";
        loaded.file_errors = true;
        continue;
      }
      for (auto& policy : parsed) loaded.policies.push_back(std::move(policy));
    }
  }
  return loaded;
}

// Ensures no two policies of one run manage the same table; the later one is reported.
std::optional<std::string> claim_table(std::map<std::string, std::string>& owners,
                                       const Policy& policy) {
  const auto [it, inserted] = owners.emplace(policy.spec.table.display(), policy.key());
  if (inserted) return std::nullopt;
  return "table " + policy.spec.table.display() + " is already managed by policy " + it->second;
}

Outcome reconcile_one(const Policy& policy, const std::string& dsn, ReconcileMode mode,
                      const StopRequested& stop_requested = {}) {
  SystemClock clock;
  try {
    const auto session = open_pg_session(dsn, policy.spec.guards.lock_timeout);
    return PartitionReconciler(clock, stop_requested).reconcile(*session, policy, mode);
  } catch (const DatabaseError& error) {
    return unavailable_outcome(policy, "DatabaseUnavailable", error.what());
  }
}

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

// Reconciles each loaded policy (invalid ones become InvalidSpec outcomes), prints the
// outcomes and returns the exit code.
int reconcile_files(const std::vector<std::string>& args, ReconcileMode mode) {
  const Options options = parse_options(args, true, false);
  const Loaded loaded = load(options.files);
  std::vector<Outcome> outcomes;
  std::map<std::string, std::string> owners;
  for (const auto& parsed : loaded.policies) {
    if (!parsed.ok()) {
      outcomes.push_back(invalid_spec_outcome(parsed.name, parsed.error_summary()));
    } else if (auto conflict = claim_table(owners, *parsed.policy)) {
      outcomes.push_back(conflict_outcome(*parsed.policy, *conflict));
    } else {
      outcomes.push_back(reconcile_one(*parsed.policy, options.dsn, mode));
    }
  }
  if (options.json_output) {
    json out = {{"policies", json::array()}};
    for (const auto& outcome : outcomes) out["policies"].push_back(outcome.to_json());
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    for (const auto& outcome : outcomes) print_text(outcome);
  }
  if (loaded.file_errors) return kExitUsage;
  const bool all_ready =
      std::all_of(outcomes.begin(), outcomes.end(), [](const Outcome& o) { return o.ready(); });
  return all_ready ? kExitReady : kExitNotReady;
}

template <typename Body>
int guarded(Body body) {
  try {
    return body();
  } catch (const UsageError& error) {
    std::cerr << "partop: " << error.what() << "\n";
    return kExitUsage;
  }
}

std::atomic<bool> g_stop_requested{false};
extern "C" void request_stop(int) {
  g_stop_requested = true;
}

std::optional<fs::file_time_type> modified_time(const std::string& path) {
  std::error_code error;
  const auto time = fs::last_write_time(path, error);
  if (error) return std::nullopt;
  return time;
}

}  // namespace

int run_plan(const std::vector<std::string>& args) {
  return guarded([&] {
    const Options options = parse_options(args, true, false);
    const Loaded loaded = load(options.files);
    SystemClock clock;
    bool all_clean = true;
    std::map<std::string, std::string> owners;
    for (const auto& parsed : loaded.policies) {
      if (!parsed.ok()) {
        std::cout << "-- policy " << parsed.name << ": InvalidSpec: " << parsed.error_summary()
                  << "\n";
        all_clean = false;
        continue;
      }
      const Policy& policy = *parsed.policy;
      if (auto conflict = claim_table(owners, policy)) {
        std::cout << "-- policy " << policy.key() << ": Conflict: " << *conflict << "\n";
        all_clean = false;
        continue;
      }
      try {
        const auto session = open_pg_session(options.dsn, policy.spec.guards.lock_timeout);
        const PlannedReconcile planned =
            PartitionReconciler(clock).observe_and_plan(*session, policy);
        const Plan& plan = planned.plan;
        std::cout << "-- policy " << policy.key() << " (" << policy.spec.table.display()
                  << "): " << plan.actions.size() << " action(s)\n";
        for (const auto& finding : plan.findings) {
          std::cout << "-- " << finding.reason << ": " << finding.message << "\n";
          if (finding.severity == Finding::Severity::kBlocking) all_clean = false;
        }
        for (size_t i = 0; i < plan.actions.size(); ++i) {
          std::cout << "-- " << (i + 1) << ". " << plan.actions[i].summary << "\n";
          for (const auto& statement :
               Executor::rendered_sql(plan.actions[i], policy.spec.guards)) {
            std::cout << statement << ";\n";
          }
        }
      } catch (const DatabaseError& error) {
        std::cout << "-- policy " << policy.key() << ": DatabaseUnavailable: " << error.what()
                  << "\n";
        all_clean = false;
      }
    }
    if (loaded.file_errors) return kExitUsage;
    return all_clean ? kExitReady : kExitNotReady;
  });
}

int run_apply(const std::vector<std::string>& args) {
  return guarded([&] { return reconcile_files(args, ReconcileMode::kApply); });
}

int run_status(const std::vector<std::string>& args) {
  return guarded([&] { return reconcile_files(args, ReconcileMode::kObserve); });
}

int run_loop(const std::vector<std::string>& args) {
  return guarded([&] {
    const Options options = parse_options(args, false, true);
    if (!fs::is_directory(options.policies_dir)) {
      throw UsageError(options.policies_dir + " is not a directory");
    }
    std::signal(SIGTERM, request_stop);
    std::signal(SIGINT, request_stop);
    using SteadyClock = std::chrono::steady_clock;
    struct Scheduled {
      Policy policy;
      SteadyClock::time_point due;
      std::chrono::milliseconds backoff{0};
    };
    std::map<std::string, std::optional<fs::file_time_type>> seen_files;
    std::map<std::string, Scheduled> scheduled;  // by policy key
    const StopRequested stop = [] { return g_stop_requested.load(); };
    runtime::log(runtime::LogLevel::kInfo, "partop run started",
                 {{"policies", options.policies_dir}, {"dsn", redact_dsn(options.dsn)}});
    while (!g_stop_requested) {
      // Reload when the set of files or any file's modification time changes.
      std::map<std::string, std::optional<fs::file_time_type>> files;
      for (const auto& file : policy_files(options.policies_dir)) files[file] = modified_time(file);
      if (files != seen_files) {
        seen_files = files;
        std::map<std::string, Scheduled> next;
        std::map<std::string, std::string> owners;
        for (const auto& [file, time] : files) {
          for (auto& parsed : parse_policy_file(file)) {
            if (!parsed.ok()) {
              runtime::log(runtime::LogLevel::kError, "invalid policy",
                           {{"file", file},
                            {"policy", parsed.name},
                            {"reason", "InvalidSpec"},
                            {"error", parsed.error_summary()}});
              continue;
            }
            if (auto conflict = claim_table(owners, *parsed.policy)) {
              runtime::log(runtime::LogLevel::kError, "conflicting policy",
                           {{"file", file},
                            {"policy", parsed.policy->key()},
                            {"reason", "Conflict"},
                            {"error", *conflict}});
              continue;
            }
            next[parsed.policy->key()] = Scheduled{*parsed.policy, SteadyClock::now()};
          }
        }
        scheduled = std::move(next);
      }
      for (auto& [key, entry] : scheduled) {
        if (g_stop_requested || SteadyClock::now() < entry.due) continue;
        const auto started = SteadyClock::now();
        const Outcome outcome =
            reconcile_one(entry.policy, options.dsn, ReconcileMode::kApply, stop);
        const auto elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();
        if (outcome.retry_with_backoff) {
          entry.backoff = std::clamp(entry.backoff * 2, std::chrono::milliseconds(1000),
                                     std::chrono::milliseconds(300000));
          entry.due = SteadyClock::now() +
                      std::min(entry.backoff, entry.policy.spec.schedule.resync_interval);
        } else {
          entry.backoff = std::chrono::milliseconds(0);
          entry.due = SteadyClock::now() + entry.policy.spec.schedule.resync_interval;
        }
        const Condition* ready = outcome.condition("Ready");
        runtime::log(outcome.ready() ? runtime::LogLevel::kInfo : runtime::LogLevel::kWarning,
                     "reconciled",
                     {{"policy", key},
                      {"table", outcome.table},
                      {"ready", outcome.ready()},
                      {"reason", outcome.ready_reason()},
                      {"message", ready ? ready->message : ""},
                      {"actions", outcome.actions_taken},
                      {"rowsDrained", outcome.rows_drained},
                      {"durationSeconds", elapsed}});
      }
      for (int i = 0; i < 10 && !g_stop_requested; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    runtime::log(runtime::LogLevel::kInfo, "partop run stopped");
    return kExitReady;
  });
}

int run_operator_command(const std::vector<std::string>& args) {
  return guarded([&] {
    OperatorOptions options;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      auto value = [&]() -> std::string {
        const auto eq = arg.find('=');
        if (eq != std::string::npos) return arg.substr(eq + 1);
        if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
        return args[++i];
      };
      const std::string flag = arg.substr(0, arg.find('='));
      if (flag == "--kubeconfig") {
        options.kubeconfig = value();
      } else if (flag == "--namespace") {
        options.namespaces.push_back(value());
      } else if (flag == "--metrics-bind-address") {
        options.metrics_bind_address = value();
      } else if (flag == "--health-probe-bind-address") {
        options.health_probe_bind_address = value();
      } else if (flag == "--leader-elect") {
        const auto eq = arg.find('=');
        const std::string text = eq == std::string::npos ? "true" : arg.substr(eq + 1);
        if (text != "true" && text != "false")
          throw UsageError("--leader-elect takes true or false");
        options.leader_elect = text == "true";
      } else if (flag == "--leader-election-namespace") {
        options.leader_election_namespace = value();
      } else if (flag == "--leader-election-id") {
        options.leader_election_id = value();
      } else if (flag == "--max-concurrent-reconciles") {
        const std::string text = value();
        if (text.empty() || text.size() > 3 || !std::all_of(text.begin(), text.end(), ::isdigit) ||
            std::stoi(text) < 1) {
          throw UsageError("--max-concurrent-reconciles takes a positive integer, got \"" + text +
                           "\"");
        }
        options.max_concurrent_reconciles = std::stoi(text);
      } else {
        throw UsageError("unknown argument \"" + arg + "\"");
      }
    }
    std::signal(SIGTERM, request_stop);
    std::signal(SIGINT, request_stop);
    return run_operator(options, g_stop_requested);
  });
}

}  // namespace partop::cli

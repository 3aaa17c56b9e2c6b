// Where a partop resource (a PartitionPolicy, a PartitionMigration) meets the world outside its
// database: where its database URI comes from, and where the outcome of a reconcile is reported.
// The operator's backend reads Secrets and writes status, Events and the partition-map ConfigMap
// (kube_policy_backend.h); `partop run`'s backend uses the --dsn of the command line and reports
// through the log alone.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "reconcilers/partition/outcome.h"
#include "reconcilers/partition/policy.h"

namespace partop::controller {

// The reason of an outcome that could not be reported because its status was not written.
inline constexpr const char* kStatusWriteFailed = "StatusWriteFailed";

struct ResolvedDsn {
  std::optional<std::string> dsn;
  std::string problem;  // why there is none
};

class PolicyBackend {
 public:
  virtual ~PolicyBackend() = default;
  // `database_ref`: the object's spec.databaseRef, as parsed.
  virtual ResolvedDsn resolve_dsn(const nlohmann::json& object,
                                  const std::optional<DatabaseRef>& database_ref) const = 0;
  // Reports the outcome of one reconcile of `object` (status, events, partition map). Returns
  // "" when what the reconcile waits for was written, else the reason it was not
  // (kStatusWriteFailed), for the error metric: the reconcile then retries with backoff. Failures
  // are the backend's to log and, where a human must act, to announce in an Event.
  virtual std::string report(const nlohmann::json& object, const Outcome& outcome) = 0;
};

// The backend of the command line: every policy uses one DSN; outcomes go to the log.
class FixedDsnBackend : public PolicyBackend {
 public:
  explicit FixedDsnBackend(std::string dsn) : dsn_(std::move(dsn)) {}
  ResolvedDsn resolve_dsn(const nlohmann::json&, const std::optional<DatabaseRef>&) const override {
    return {dsn_, ""};
  }
  std::string report(const nlohmann::json& object, const Outcome& outcome) override;

 private:
  std::string dsn_;
};

// The one log line of a reconcile: info when Ready, warning otherwise.
void log_outcome(const nlohmann::json& object, const Outcome& outcome);

}  // namespace partop::controller

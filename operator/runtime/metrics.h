// The operator's Prometheus metrics (prometheus-cpp registry, text exposition format).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace partop::runtime {

struct PolicyFigures {
  double partitions = 0;
  // Until the upper bound of the unbroken run of partitions from now; time keys only (an integer
  // key has no time horizon, so its series is absent rather than a misleading 0).
  std::optional<double> buffer_seconds;
  double default_rows = 0;
  double replication_lag_seconds = 0;
  // A list policy's values, and how many of them are not Ready; absent for a range policy. Per
  // policy, never per tenant (a label per tenant would not scale).
  std::optional<double> tenants;
  std::optional<double> tenants_not_ready;
};

// The work left of an object that runs for hours, one gauge per kind.
enum class RemainingWork {
  kBackfillPartitions,  // partop_backfill_partitions_remaining{namespace, backfill}
  kMigrationRows,       // partop_migration_rows_remaining{namespace, migration}: an estimate
};

class Metrics {
 public:
  Metrics();

  // One reconcile of `controller`'s: what comes next (`result`), how long it took, and the
  // reason it fell short of its goal ("" when it did not: no error counted).
  void reconcile_finished(const std::string& controller, const std::string& result, double seconds,
                          const std::string& failure);
  // Work-queue figures, labelled by controller: the queue's depth now, and keys added and
  // rate-limited re-adds since the last sample.
  void sample_queue(const std::string& controller, size_t depth, uint64_t adds, uint64_t retries);
  void key_dequeued(const std::string& controller, double waited_seconds);
  void ddl_applied(const std::string& action);
  void lock_timeout();
  void guard_blocked(const std::string& guard);
  void set_leader(bool leader);
  void set_policy(const std::string& ns, const std::string& policy, const PolicyFigures& figures);
  void remove_policy(const std::string& ns, const std::string& policy);
  void set_remaining(RemainingWork work, const std::string& ns, const std::string& name,
                     double value);
  // The object is gone: its series goes too.
  void remove_remaining(RemainingWork work, const std::string& ns, const std::string& name);

  // Renders every metric in the text exposition format.
  std::string render();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Histogram& reconcile_duration_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  prometheus::Family<prometheus::Counter>& queue_adds_;
  prometheus::Family<prometheus::Counter>& queue_retries_;
  prometheus::Family<prometheus::Histogram>& queue_duration_;
  prometheus::Family<prometheus::Counter>& ddl_total_;
  prometheus::Counter& lock_timeouts_;
  prometheus::Family<prometheus::Counter>& guard_blocked_;
  prometheus::Gauge& leader_;
  prometheus::Family<prometheus::Gauge>& partitions_;
  prometheus::Family<prometheus::Gauge>& buffer_seconds_;
  prometheus::Family<prometheus::Gauge>& default_rows_;
  prometheus::Family<prometheus::Gauge>& replication_lag_;
  prometheus::Family<prometheus::Gauge>& tenants_;
  prometheus::Family<prometheus::Gauge>& tenants_not_ready_;
  prometheus::Family<prometheus::Gauge>& backfill_partitions_remaining_;
  prometheus::Family<prometheus::Gauge>& migration_rows_remaining_;

  prometheus::Family<prometheus::Gauge>& remaining_family(RemainingWork work);
  static prometheus::Labels remaining_labels(RemainingWork work, const std::string& ns,
                                             const std::string& name);
};

}  // namespace partop::runtime

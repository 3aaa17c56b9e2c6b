#include "operator/runtime/metrics.h"

#include <prometheus/text_serializer.h>

namespace partop::runtime {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

const prometheus::Histogram::BucketBoundaries kSecondsBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconcile_total_(
          BuildCounter()
              .Name("partop_reconcile_total")
              .Help("Reconciles by result (success, requeue_after, continue, requeue, error).")
              .Register(*registry_)),
      reconcile_errors_(BuildCounter()
                            .Name("partop_reconcile_errors_total")
                            .Help("Reconciles that fell short of their goal for a reason other "
                                  "than a deliberate deferral, by controller and reason.")
                            .Register(*registry_)),
      reconcile_duration_(BuildHistogram()
                              .Name("partop_reconcile_duration_seconds")
                              .Help("Time spent in one reconcile.")
                              .Register(*registry_)
                              .Add({}, kSecondsBuckets)),
      queue_depth_(BuildGauge()
                       .Name("partop_workqueue_depth")
                       .Help("Keys waiting in the work queue.")
                       .Register(*registry_)),
      queue_adds_(BuildCounter()
                      .Name("partop_workqueue_adds_total")
                      .Help("Keys added to the work queue.")
                      .Register(*registry_)),
      queue_retries_(BuildCounter()
                         .Name("partop_workqueue_retries_total")
                         .Help("Rate-limited re-adds to the work queue.")
                         .Register(*registry_)),
      queue_duration_(BuildHistogram()
                          .Name("partop_workqueue_queue_duration_seconds")
                          .Help("How long a key waited in the queue before a worker took it.")
                          .Register(*registry_)),
      ddl_total_(BuildCounter()
                     .Name("partop_ddl_total")
                     .Help("DDL steps applied, by action.")
                     .Register(*registry_)),
      lock_timeouts_(BuildCounter()
                         .Name("partop_lock_timeouts_total")
                         .Help("Steps that backed off because a lock was not granted in time.")
                         .Register(*registry_)
                         .Add({})),
      guard_blocked_(BuildCounter()
                         .Name("partop_guard_blocked_total")
                         .Help("Reconciles held back by a guard, by guard.")
                         .Register(*registry_)),
      leader_(BuildGauge()
                  .Name("partop_leader")
                  .Help("1 when this process is the leader.")
                  .Register(*registry_)
                  .Add({})),
      partitions_(BuildGauge()
                      .Name("partop_partitions")
                      .Help("Range partitions of the table.")
                      .Register(*registry_)),
      buffer_seconds_(BuildGauge()
                          .Name("partop_buffer_seconds")
                          .Help("Seconds until the upper bound of the newest partition in the "
                                "unbroken run from now.")
                          .Register(*registry_)),
      default_rows_(BuildGauge()
                        .Name("partop_default_rows")
                        .Help("Rows in the DEFAULT partition.")
                        .Register(*registry_)),
      replication_lag_(BuildGauge()
                           .Name("partop_replication_lag_seconds")
                           .Help("Replay lag of the furthest standby at the last reconcile.")
                           .Register(*registry_)),
      tenants_(BuildGauge()
                   .Name("partop_tenants")
                   .Help("Values a list policy's source names (each with its partition).")
                   .Register(*registry_)),
      tenants_not_ready_(BuildGauge()
                             .Name("partop_tenants_not_ready")
                             .Help("Values of a list policy whose partition or sub-tree is not "
                                   "Ready.")
                             .Register(*registry_)),
      backfill_partitions_remaining_(BuildGauge()
                                         .Name("partop_backfill_partitions_remaining")
                                         .Help("Partitions of a backfill's range not swapped yet.")
                                         .Register(*registry_)),
      migration_rows_remaining_(BuildGauge()
                                    .Name("partop_migration_rows_remaining")
                                    .Help("Rows a migration has still to copy (an estimate).")
                                    .Register(*registry_)) {}

void Metrics::reconcile_finished(const std::string& controller, const std::string& result,
                                 double seconds, const std::string& failure) {
  reconcile_total_.Add({{"result", result}}).Increment();
  reconcile_duration_.Observe(seconds);
  if (!failure.empty())
    reconcile_errors_.Add({{"controller", controller}, {"reason", failure}}).Increment();
}

void Metrics::ddl_applied(const std::string& action) {
  ddl_total_.Add({{"action", action}}).Increment();
}

void Metrics::lock_timeout() {
  lock_timeouts_.Increment();
}

void Metrics::guard_blocked(const std::string& guard) {
  guard_blocked_.Add({{"guard", guard}}).Increment();
}

void Metrics::set_leader(bool leader) {
  leader_.Set(leader ? 1 : 0);
}

void Metrics::set_policy(const std::string& ns, const std::string& policy,
                         const PolicyFigures& figures) {
  const prometheus::Labels labels = {{"namespace", ns}, {"policy", policy}};
  partitions_.Add(labels).Set(figures.partitions);
  default_rows_.Add(labels).Set(figures.default_rows);
  replication_lag_.Add(labels).Set(figures.replication_lag_seconds);
  const auto set_or_remove = [&](prometheus::Family<prometheus::Gauge>& family,
                                 const std::optional<double>& value) {
    if (value) {
      family.Add(labels).Set(*value);
    } else if (family.Has(labels)) {
      family.Remove(&family.Add(labels));
    }
  };
  set_or_remove(buffer_seconds_, figures.buffer_seconds);
  set_or_remove(tenants_, figures.tenants);
  set_or_remove(tenants_not_ready_, figures.tenants_not_ready);
}

void Metrics::remove_policy(const std::string& ns, const std::string& policy) {
  const prometheus::Labels labels = {{"namespace", ns}, {"policy", policy}};
  for (auto* family : {&partitions_, &buffer_seconds_, &default_rows_, &replication_lag_, &tenants_,
                       &tenants_not_ready_}) {
    if (family->Has(labels)) family->Remove(&family->Add(labels));
  }
}

prometheus::Family<prometheus::Gauge>& Metrics::remaining_family(RemainingWork work) {
  return work == RemainingWork::kBackfillPartitions ? backfill_partitions_remaining_
                                                    : migration_rows_remaining_;
}

prometheus::Labels Metrics::remaining_labels(RemainingWork work, const std::string& ns,
                                             const std::string& name) {
  return {{"namespace", ns},
          {work == RemainingWork::kBackfillPartitions ? "backfill" : "migration", name}};
}

void Metrics::set_remaining(RemainingWork work, const std::string& ns, const std::string& name,
                            double value) {
  remaining_family(work).Add(remaining_labels(work, ns, name)).Set(value);
}

void Metrics::remove_remaining(RemainingWork work, const std::string& ns, const std::string& name) {
  auto& family = remaining_family(work);
  const prometheus::Labels labels = remaining_labels(work, ns, name);
  if (family.Has(labels)) family.Remove(&family.Add(labels));
}

void Metrics::sample_queue(const std::string& controller, size_t depth, uint64_t adds,
                           uint64_t retries) {
  const prometheus::Labels labels = {{"controller", controller}};
  queue_depth_.Add(labels).Set(static_cast<double>(depth));
  queue_adds_.Add(labels).Increment(static_cast<double>(adds));
  queue_retries_.Add(labels).Increment(static_cast<double>(retries));
}

void Metrics::key_dequeued(const std::string& controller, double waited_seconds) {
  queue_duration_.Add({{"controller", controller}}, kSecondsBuckets).Observe(waited_seconds);
}

std::string Metrics::render() {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace partop::runtime

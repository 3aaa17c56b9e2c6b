// The operator's Prometheus metrics (prometheus-cpp registry, text exposition format).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace partop::runtime {

class WorkQueue;

struct PolicyFigures {
  double partitions = 0;
  // Until the upper bound of the unbroken run of partitions from now; time keys only (an integer
  // key has no time horizon, so its series is absent rather than a misleading 0).
  std::optional<double> buffer_seconds;
  double default_rows = 0;
  double replication_lag_seconds = 0;
};

class Metrics {
 public:
  Metrics();

  void reconcile_finished(const std::string& result, double seconds, bool error);
  void key_dequeued(double waited_seconds) { queue_duration_.Observe(waited_seconds); }
  void ddl_applied(const std::string& action);
  void lock_timeout();
  void guard_blocked(const std::string& guard);
  void set_leader(bool leader);
  void set_policy(const std::string& ns, const std::string& policy, const PolicyFigures& figures);
  void remove_policy(const std::string& ns, const std::string& policy);

  // Samples the work queue and renders every metric in the text exposition format.
  std::string render(const WorkQueue* queue);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Counter& reconcile_errors_;
  prometheus::Histogram& reconcile_duration_;
  prometheus::Gauge& queue_depth_;
  prometheus::Counter& queue_adds_;
  prometheus::Counter& queue_retries_;
  prometheus::Histogram& queue_duration_;
  prometheus::Family<prometheus::Counter>& ddl_total_;
  prometheus::Counter& lock_timeouts_;
  prometheus::Family<prometheus::Counter>& guard_blocked_;
  prometheus::Gauge& leader_;
  prometheus::Family<prometheus::Gauge>& partitions_;
  prometheus::Family<prometheus::Gauge>& buffer_seconds_;
  prometheus::Family<prometheus::Gauge>& default_rows_;
  prometheus::Family<prometheus::Gauge>& replication_lag_;
  std::mutex mutex_;
  double seen_adds_ = 0;
  double seen_retries_ = 0;
};

}  // namespace partop::runtime

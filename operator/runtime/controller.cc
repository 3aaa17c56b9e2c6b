#include "operator/runtime/controller.h"

#include "operator/runtime/informer.h"
#include "operator/runtime/log.h"

namespace partop::runtime {

using nlohmann::json;

Controller::Controller(ControllerOptions options, std::unique_ptr<Reconciler> reconciler,
                       Metrics& metrics, const Clock& clock)
    : options_(std::move(options)),
      reconciler_(std::move(reconciler)),
      metrics_(metrics),
      clock_(clock) {}

Controller::~Controller() {
  stop();
}

void Controller::watch_for(Source& source) {
  primary_ = &source;
  source.add_handler(
      [this](const std::string& key, const json* object) { on_primary(key, object); });
}

void Controller::on_primary(const std::string& key, const json* object) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (object == nullptr) {
      seen_generations_.erase(key);
    } else {
      // Status writes do not change metadata.generation: only spec changes are work.
      const int64_t generation =
          object->value("metadata", json::object()).value("generation", int64_t{0});
      auto [it, inserted] = seen_generations_.emplace(key, generation);
      if (!inserted && it->second == generation) return;
      it->second = generation;
    }
  }
  enqueue(key);
}

void Controller::watch_owned(Source& source, const std::string& owner_kind) {
  source.add_handler([this, owner_kind](const std::string&, const json* object) {
    if (object == nullptr) return;  // a deleted owned object is noticed by its owner's resync
    const json& metadata = object->value("metadata", json::object());
    for (const json& owner : metadata.value("ownerReferences", json::array())) {
      if (owner.value("controller", false) && owner.value("kind", "") == owner_kind) {
        const std::string ns = metadata.value("namespace", "");
        const std::string name = owner.value("name", "");
        enqueue(ns.empty() ? name : ns + "/" + name);
      }
    }
  });
}

void Controller::watch_mapped(Source& source, Mapper map) {
  source.add_handler([this, map = std::move(map)](const std::string& key, const json* object) {
    if (!active_) return;
    for (const auto& mapped : map(key, object)) enqueue(mapped);
  });
}

void Controller::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (queue_) return;
  queue_ = std::make_unique<WorkQueue>(clock_);
  seen_adds_ = 0;
  seen_retries_ = 0;
  if (primary_ != nullptr) {
    primary_->store().for_each([&](const json& object) { queue_->add(object_key(object)); });
  }
  active_ = true;
  for (int i = 0; i < std::max(1, options_.max_concurrent_reconciles); ++i)
    workers_.emplace_back([this, queue = queue_.get()] { work(*queue); });
}

void Controller::stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!queue_) return;
    active_ = false;
    queue_->shut_down();
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.join();
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.reset();
}

void Controller::enqueue(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (queue_) queue_->add(key);
}

void Controller::sample_metrics() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!queue_) {
    metrics_.sample_queue(options_.name, 0, 0, 0);
    return;
  }
  const uint64_t adds = queue_->adds();
  const uint64_t retries = queue_->retries();
  metrics_.sample_queue(options_.name, queue_->depth(), adds - seen_adds_, retries - seen_retries_);
  seen_adds_ = adds;
  seen_retries_ = retries;
}

void Controller::work(WorkQueue& queue) {
  while (auto key = queue.get()) {
    metrics_.key_dequeued(options_.name, queue.last_wait_seconds());
    const auto started = clock_.monotonic_now();
    Result result;
    try {
      result = reconciler_->reconcile(*key);
    } catch (const std::exception& error) {
      // A bug or an unexpected answer: log it and retry this key only.
      log(LogLevel::kError, "reconcile failed",
          {{"controller", options_.name}, {"key", *key}, {"error", error.what()}});
      result = Result::error();
    }
    const double seconds = std::chrono::duration<double>(clock_.monotonic_now() - started).count();
    finish(queue, *key, result, seconds);
    queue.done(*key);
  }
}

void Controller::finish(WorkQueue& queue, const std::string& key, const Result& result,
                        double seconds) {
  const std::string failure = !result.failure.empty()               ? result.failure
                              : result.next == Result::Next::kError ? "InternalError"
                                                                    : "";
  const auto finished = [&](const char* label) {
    metrics_.reconcile_finished(options_.name, label, seconds, failure);
  };
  switch (result.next) {
    case Result::Next::kDone:
      queue.forget(key);
      finished("success");
      break;
    case Result::Next::kRequeueAfter:
      queue.forget(key);
      queue.add_after(key, result.after);
      finished("requeue_after");
      break;
    case Result::Next::kContinue:
      // Marks the key dirty: it is queued again, behind the others, when done() is called.
      queue.forget(key);
      queue.add(key);
      finished("continue");
      break;
    case Result::Next::kGuardDeferred:
      queue.add_rate_limited(key, options_.guard_backoff);
      finished("requeue");
      break;
    case Result::Next::kError:
      queue.add_rate_limited(key, options_.error_backoff);
      finished("error");
      break;
  }
}

}  // namespace partop::runtime

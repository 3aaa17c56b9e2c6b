#include "operator/runtime/work_queue.h"

#include <algorithm>
#include <cmath>

namespace partop::runtime {

std::chrono::milliseconds BackoffPolicy::delay(int failures) const {
  const double factor = std::min(std::pow(2.0, failures), 1e12);
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::min(static_cast<double>(max.count()), base.count() * factor)));
}

void WorkQueue::enqueue_locked(const std::string& key) {
  if (shut_down_) return;
  if (processing_.count(key)) {
    dirty_.insert(key);
    return;
  }
  if (!queued_.insert(key).second) return;
  delayed_.erase(key);
  queue_.push_back(key);
  enqueued_at_[key] = clock_.monotonic_now();
  ++adds_;
  changed_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  enqueue_locked(key);
}

void WorkQueue::add_after(const std::string& key, Duration delay) {
  if (delay <= Duration::zero()) {
    add(key);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (shut_down_ || queued_.count(key)) return;
  const auto due = clock_.monotonic_now() + delay;
  auto [it, inserted] = delayed_.emplace(key, due);
  if (!inserted && due < it->second) it->second = due;  // the earliest request wins
  changed_.notify_all();
}

std::chrono::milliseconds WorkQueue::add_rate_limited(const std::string& key,
                                                      const BackoffPolicy& backoff) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    delay = backoff.delay(failures_[key]++);
    ++retries_;
  }
  add_after(key, delay);
  return delay;
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  failures_.erase(key);
}

int WorkQueue::failures(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promote_due_locked(TimePoint now) {
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second <= now) {
      const std::string key = it->first;
      it = delayed_.erase(it);
      enqueue_locked(key);
    } else {
      ++it;
    }
  }
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    if (shut_down_) return std::nullopt;
    const TimePoint now = clock_.monotonic_now();
    promote_due_locked(now);
    if (!queue_.empty()) break;
    if (delayed_.empty()) {
      changed_.wait(lock);
    } else {
      auto next =
          std::min_element(delayed_.begin(), delayed_.end(),
                           [](const auto& a, const auto& b) { return a.second < b.second; });
      changed_.wait_for(lock, std::min<Duration>(next->second - now, std::chrono::seconds(1)));
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  queued_.erase(key);
  processing_.insert(key);
  last_wait_seconds_ =
      std::chrono::duration<double>(clock_.monotonic_now() - enqueued_at_[key]).count();
  enqueued_at_.erase(key);
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  processing_.erase(key);
  if (dirty_.erase(key)) enqueue_locked(key);
}

void WorkQueue::shut_down() {
  std::lock_guard<std::mutex> lock(mutex_);
  shut_down_ = true;
  changed_.notify_all();
}

std::optional<WorkQueue::TimePoint> WorkQueue::due(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = delayed_.find(key);
  if (it == delayed_.end()) return std::nullopt;
  return it->second;
}

size_t WorkQueue::depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

uint64_t WorkQueue::adds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return adds_;
}

uint64_t WorkQueue::retries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return retries_;
}

double WorkQueue::last_wait_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_wait_seconds_;
}

}  // namespace partop::runtime

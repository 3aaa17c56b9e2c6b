#include "operator/runtime/background_writes.h"

#include <algorithm>

#include "operator/runtime/log.h"

namespace partop::runtime {

BackgroundWrites::BackgroundWrites(size_t writers) {
  for (size_t i = 0; i < std::max<size_t>(1, writers); ++i)
    writers_.emplace_back([this] { run(); });
}

BackgroundWrites::~BackgroundWrites() {
  size_t dropped = 0;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, kShutdownGrace, [&] { return pending_.empty(); });
    dropped = pending_.size();
    pending_.clear();
  }
  changed_.notify_all();
  for (auto& writer : writers_) writer.join();
  if (dropped > 0) {
    log(LogLevel::kWarning, "background writes dropped at shutdown",
        {{"writes", dropped}, {"graceSeconds", kShutdownGrace.count()}});
  }
}

void BackgroundWrites::submit(std::string key, std::function<void()> write) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto waiting = key.empty()
                             ? pending_.end()
                             : std::find_if(pending_.begin(), pending_.end(),
                                            [&](const auto& entry) { return entry.first == key; });
    if (waiting != pending_.end()) {
      waiting->second = std::move(write);
    } else {
      pending_.emplace_back(std::move(key), std::move(write));
    }
  }
  changed_.notify_all();
}

void BackgroundWrites::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return pending_.empty() && running_ == 0; });
}

void BackgroundWrites::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    // The oldest write whose key no other writer is writing: one key's writes stay in order.
    auto next = pending_.end();
    changed_.wait(lock, [&] {
      next = std::find_if(pending_.begin(), pending_.end(), [&](const auto& entry) {
        return entry.first.empty() || in_flight_.count(entry.first) == 0;
      });
      return next != pending_.end() || (stopping_ && pending_.empty());
    });
    if (next == pending_.end()) return;  // stopping, nothing left
    const std::string key = next->first;
    std::function<void()> write = std::move(next->second);
    pending_.erase(next);
    if (!key.empty()) in_flight_.insert(key);
    ++running_;
    lock.unlock();
    write();
    lock.lock();
    --running_;
    if (!key.empty()) in_flight_.erase(key);
    changed_.notify_all();
  }
}

}  // namespace partop::runtime

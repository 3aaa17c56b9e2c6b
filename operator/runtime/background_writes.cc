#include "operator/runtime/background_writes.h"

#include <algorithm>

#include "operator/runtime/log.h"

namespace partop::runtime {

BackgroundWrites::BackgroundWrites() : thread_([this] { run(); }) {}

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
  thread_.join();
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
  changed_.wait(lock, [&] { return pending_.empty() && !running_write_; });
}

void BackgroundWrites::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, nothing left
    std::function<void()> write = std::move(pending_.front().second);
    pending_.pop_front();
    running_write_ = true;
    lock.unlock();
    write();
    lock.lock();
    running_write_ = false;
    changed_.notify_all();
  }
}

}  // namespace partop::runtime

#include "operator/runtime/log.h"

#include <chrono>
#include <iostream>
#include <mutex>

namespace partop::runtime {
namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void log(LogLevel level, const std::string& message, const nlohmann::json& fields) {
  nlohmann::json line = {
      {"ts",
       std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()},
      {"level", level_name(level)},
      {"msg", message}};
  if (fields.is_object()) line.update(fields);
  static std::mutex mutex;
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(mutex);
  std::cerr << text << '\n' << std::flush;
}

}  // namespace partop::runtime

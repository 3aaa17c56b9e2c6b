// Structured logging: one JSON object per line on stderr, safe from several threads.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace partop::runtime {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Writes {"ts": <unix seconds>, "level": ..., "msg": ..., ...fields}.
void log(LogLevel level, const std::string& message,
         const nlohmann::json& fields = nlohmann::json::object());

}  // namespace partop::runtime

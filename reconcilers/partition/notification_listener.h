// The seam where partop hears from PostgreSQL without asking: one connection LISTENing on one
// channel. The operator uses it to learn at once that a list policy's values changed (a NOTIFY
// from the application or from a trigger on the source table) instead of at the next resync.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace partop {

// The channel partop listens on for list values; the payload names the table whose values
// changed ("schema.name", or "name" for schema public).
inline constexpr std::string_view kListValuesChannel = "partop_list_values";

class NotificationListener {
 public:
  virtual ~NotificationListener() = default;
  // Waits up to `timeout` for the next notification on the channel and returns its payload;
  // nullopt when none came. Throws DatabaseError when the connection is lost.
  virtual std::optional<std::string> wait(std::chrono::milliseconds timeout) = 0;
};

class NotificationConnector {
 public:
  virtual ~NotificationConnector() = default;
  // Connects to `dsn` and LISTENs on `channel`. Throws DatabaseError when it cannot.
  virtual std::unique_ptr<NotificationListener> listen(const std::string& dsn,
                                                       const std::string& channel) = 0;
};

}  // namespace partop

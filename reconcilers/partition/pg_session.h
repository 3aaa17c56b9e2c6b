// The database seams over libpqxx, real PostgreSQL connections: DatabaseSession (statements and
// transactions) and NotificationListener (LISTEN).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "reconcilers/partition/db_session.h"
#include "reconcilers/partition/notification_listener.h"

namespace partop {

// Connects with application_name "partop" and TimeZone UTC (bounds are read and written in UTC).
// Reads (query()) run with `read_lock_timeout` when it is positive, so that observing the catalog
// never queues behind a session holding a lock on the table (zero: wait as long as it takes).
// Throws DatabaseError (sqlstate empty) when the server cannot be reached; the message never
// contains the DSN's password.
std::unique_ptr<DatabaseSession> open_pg_session(
    const std::string& dsn,
    std::chrono::milliseconds read_lock_timeout = std::chrono::milliseconds(0));

// How long a connection attempt may take when neither the DSN nor PGCONNECT_TIMEOUT says.
inline constexpr int kConnectTimeoutSeconds = 10;

// `dsn` (a URI or key=value string) as a key=value connection string that also sets
// application_name and, through the startup packet's options, each (setting, value) of
// `settings` after any options the DSN (or PGOPTIONS) already had, and connect_timeout
// (kConnectTimeoutSeconds) when neither the DSN nor PGCONNECT_TIMEOUT sets one. Throws
// DatabaseError (sqlstate empty) when libpq cannot parse `dsn`.
std::string conninfo_with_settings(
    const std::string& dsn, const std::string& application_name,
    const std::vector<std::pair<std::string, std::string>>& settings);

class PgConnector : public DatabaseConnector {
 public:
  std::unique_ptr<DatabaseSession> connect(const std::string& dsn,
                                           std::chrono::milliseconds read_lock_timeout) override {
    return open_pg_session(dsn, read_lock_timeout);
  }
};

// Connects as open_pg_session() does (application_name "partop-listener") and LISTENs.
class PgNotificationConnector : public NotificationConnector {
 public:
  std::unique_ptr<NotificationListener> listen(const std::string& dsn,
                                               const std::string& channel) override;
};

}  // namespace partop

// DatabaseSession over libpqxx: a real PostgreSQL connection.
#pragma once

#include <memory>
#include <string>

#include "reconcilers/partition/db_session.h"

namespace partop {

// Connects with application_name "partop" and TimeZone UTC (bounds are read and written in UTC).
// Throws DatabaseError (sqlstate empty) when the server cannot be reached; the message never
// contains the DSN's password.
std::unique_ptr<DatabaseSession> open_pg_session(const std::string& dsn);

class PgConnector : public DatabaseConnector {
 public:
  std::unique_ptr<DatabaseSession> connect(const std::string& dsn) override {
    return open_pg_session(dsn);
  }
};

}  // namespace partop

// A DatabaseConnector whose database is never reachable (connection refused, SQLSTATE 08001);
// counts the attempts, so controller tests can tell whether a reconcile tried the database, and
// runs `on_connect` first (what else happens while a reconcile works, e.g. a deletion).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "reconcilers/partition/db_session.h"

namespace partop::testing {

class UnreachableDatabase : public DatabaseConnector {
 public:
  std::unique_ptr<DatabaseSession> connect(const std::string&, std::chrono::milliseconds) override {
    ++attempts;
    if (on_connect) on_connect();
    throw DatabaseError("connection refused", "08001");
  }
  int attempts = 0;
  std::function<void()> on_connect;
};

}  // namespace partop::testing

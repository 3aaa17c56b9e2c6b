// The one arbitration rule partop applies across every kind it serves: a table of a database is
// managed by exactly one resource of each role — one PartitionPolicy maintaining its layout, one
// migration or backfill rewriting it — and the earliest claim wins (by creationTimestamp, then
// kind, then key; files, which have no timestamp, rank by kind and key). Every kind that manages
// tables registers how to read a claim from its objects; its reconciler asks owner_other_than()
// before touching the database and reports Conflict when there is an owner.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/runtime/object_store.h"

namespace partop::runtime {

struct ClaimingKind {
  std::string kind;  // "PartitionPolicy"
  // Kinds of one role compete for a table; kinds of different roles do not (a policy waits for
  // a migration of its table through the database, not through a claim).
  std::string role;  // "layout", "rewrite"
  const ObjectStore* store = nullptr;
  // Whether an object names `table` ("schema.name"); called for every object of the kind on
  // every check, so it must be cheap: read off the document without copying it.
  std::function<bool(const nlohmann::json& object, const std::string& table)> names_table;
  // The database an object's table lives in (its DSN without the password); may read a Secret.
  // nullopt when it cannot be resolved (such an object claims nothing).
  std::function<std::optional<std::string>(const nlohmann::json& object)> database_of;
};

class TableClaims {
 public:
  void add_kind(ClaimingKind kind);

  // "<Kind> <key>" of the earliest resource, other than `object` of `kind`, that claims `table`
  // of `database`; nullopt when `object` is the earliest (or the only) claimant.
  std::optional<std::string> owner_other_than(const std::string& kind, const nlohmann::json& object,
                                              const std::string& table,
                                              const std::string& database) const;

 private:
  mutable std::mutex mutex_;
  std::vector<ClaimingKind> kinds_;
};

// Whether a table written as "name" or "schema.name" (the default schema is public) is
// `normalized` ("schema.name"), compared without building a string.
bool same_table(const std::string& written, const std::string& normalized);

}  // namespace partop::runtime

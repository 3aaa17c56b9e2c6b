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
  // Visits, without copying them, the objects of the kind that name `table` ("schema.name").
  // Called on every check of every kind of the role, so it should cost the objects it finds, not
  // the number of objects of the kind (see table_index()); `visit` must not call back into it.
  std::function<void(const std::string& table,
                     const std::function<void(const nlohmann::json& object)>& visit)>
      for_each_naming;
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

// A table written as "name" or "schema.name" as "schema.name" (the default schema is public).
std::string qualified_table(const std::string& written);

// Whether a table written as "name" or "schema.name" is `qualified` ("schema.name").
bool same_table(const std::string& written, const std::string& qualified);

// An index of objects by the table their spec.table names, qualified ("public.events"); objects
// without a string spec.table are filed under nothing.
ObjectIndex table_index();

}  // namespace partop::runtime

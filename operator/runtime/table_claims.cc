#include "operator/runtime/table_claims.h"

#include <algorithm>

#include <tuple>

#include "operator/runtime/informer.h"

namespace partop::runtime {

using nlohmann::json;

std::string normalized_table(const std::string& table) {
  return table.find('.') == std::string::npos ? "public." + table : table;
}

void TableClaims::add_kind(ClaimingKind kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  kinds_.push_back(std::move(kind));
}

std::optional<std::string> TableClaims::owner_other_than(const std::string& kind,
                                                         const json& object,
                                                         const std::string& table,
                                                         const std::string& database) const {
  using Rank = std::tuple<std::string, std::string, std::string>;
  const auto rank = [](const std::string& of_kind, const json& o) {
    return Rank{o.value("metadata", json::object()).value("creationTimestamp", ""), of_kind,
                object_key(o)};
  };
  const Rank mine = rank(kind, object);
  std::vector<ClaimingKind> kinds;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    kinds = kinds_;
  }
  std::optional<Rank> owner;
  const auto asking = std::find_if(kinds.begin(), kinds.end(),
                                   [&](const ClaimingKind& k) { return k.kind == kind; });
  for (const ClaimingKind& other_kind : kinds) {
    if (asking != kinds.end() && other_kind.role != asking->role) continue;
    // Cheap first: only objects naming the same table (by text) have their database resolved,
    // so a check costs O(objects) string comparisons, not O(objects) Secret reads.
    std::vector<json> candidates;
    other_kind.store->for_each([&](const json& other) {
      if (other_kind.table_of(other) != table) return;
      const Rank theirs = rank(other_kind.kind, other);
      if (theirs < mine && (!owner || theirs < *owner)) candidates.push_back(other);
    });
    for (const json& other : candidates) {
      const Rank theirs = rank(other_kind.kind, other);
      if (owner && !(theirs < *owner)) continue;
      if (other_kind.database_of(other) == database) owner = theirs;
    }
  }
  if (!owner) return std::nullopt;
  return std::get<1>(*owner) + " " + std::get<2>(*owner);
}

}  // namespace partop::runtime

#include "operator/runtime/table_claims.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "operator/runtime/informer.h"

namespace partop::runtime {

using nlohmann::json;

std::string qualified_table(const std::string& written) {
  return written.find('.') == std::string::npos ? "public." + written : written;
}

bool same_table(const std::string& written, const std::string& qualified) {
  return qualified_table(written) == qualified;
}

ObjectIndex table_index() {
  return {"spec.table", [](const json& object) -> std::vector<std::string> {
            const auto spec = object.find("spec");
            if (spec == object.end() || !spec->is_object()) return {};
            const auto table = spec->find("table");
            if (table == spec->end() || !table->is_string()) return {};
            return {qualified_table(table->get_ref<const std::string&>())};
          }};
}

void TableClaims::add_kind(ClaimingKind kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  kinds_.push_back(std::move(kind));
}

namespace {

// Rank of a claim: earliest creationTimestamp first, then kind, then key.
using Rank = std::tuple<std::string, std::string, std::string>;

Rank rank_of(const std::string& kind, const json& object) {
  std::string created;
  if (const auto metadata = object.find("metadata");
      metadata != object.end() && metadata->is_object()) {
    const auto timestamp = metadata->find("creationTimestamp");
    if (timestamp != metadata->end() && timestamp->is_string())
      created = timestamp->get_ref<const std::string&>();
  }
  return {std::move(created), kind, object_key(object)};
}

}  // namespace

std::optional<std::string> TableClaims::owner_other_than(const std::string& kind,
                                                         const json& object,
                                                         const std::string& table,
                                                         const std::string& database) const {
  const Rank mine = rank_of(kind, object);
  std::vector<ClaimingKind> kinds;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    kinds = kinds_;
  }
  const auto asking = std::find_if(kinds.begin(), kinds.end(),
                                   [&](const ClaimingKind& k) { return k.kind == kind; });
  // Earlier claimants of the table, copied out of the stores (their databases may take Secret
  // reads, which do not happen under a store's lock).
  std::vector<std::pair<Rank, std::pair<const ClaimingKind*, json>>> earlier;
  for (const ClaimingKind& other_kind : kinds) {
    if (asking != kinds.end() && other_kind.role != asking->role) continue;
    // Cheap first: only objects naming the same table (by text) are ranked, only earlier ones
    // copied and have their database resolved.
    other_kind.for_each_naming(table, [&](const json& other) {
      Rank theirs = rank_of(other_kind.kind, other);
      if (theirs < mine) earlier.push_back({std::move(theirs), {&other_kind, other}});
    });
  }
  // The earliest claimant in the same database owns the table.
  std::sort(earlier.begin(), earlier.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [theirs, claimant] : earlier) {
    if (claimant.first->database_of(claimant.second) == database)
      return std::get<1>(theirs) + " " + std::get<2>(theirs);
  }
  return std::nullopt;
}

}  // namespace partop::runtime

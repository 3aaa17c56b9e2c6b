#include "operator/controller/table_claim.h"

#include "reconcilers/partition/db_session.h"

namespace partop::controller {

runtime::ClaimingKind table_claim(std::string kind, std::string role,
                                  const runtime::ObjectStore& objects, const PolicyBackend& backend,
                                  DatabaseRefOf database_ref_of) {
  using nlohmann::json;
  return {std::move(kind), std::move(role), &objects,
          [](const json& object) {
            const json table = object.value("spec", json::object()).value("table", json());
            return table.is_string() ? runtime::normalized_table(table.get<std::string>())
                                     : std::string();
          },
          [&backend, database_ref_of](const json& object) -> std::optional<std::string> {
            const auto ref = database_ref_of(object);
            if (!ref) return std::nullopt;
            const ResolvedDsn dsn = backend.resolve_dsn(object, *ref);
            if (!dsn.dsn) return std::nullopt;
            return redact_dsn(*dsn.dsn);
          }};
}

}  // namespace partop::controller

#include "operator/controller/table_claim.h"

#include "reconcilers/partition/db_session.h"

namespace partop::controller {
namespace {

using nlohmann::json;

// Whether the document's spec.table names `table`, read in place.
bool names_table(const json& document, const std::string& table) {
  const auto spec = document.find("spec");
  if (spec == document.end() || !spec->is_object()) return false;
  const auto written = spec->find("table");
  return written != spec->end() && written->is_string() &&
         runtime::same_table(written->get_ref<const std::string&>(), table);
}

}  // namespace

runtime::ClaimingKind table_claim(std::string kind, std::string role,
                                  const runtime::ObjectStore& objects, const PolicyBackend& backend,
                                  DatabaseRefOf database_ref_of,
                                  ClaimDocumentOf claim_document_of) {
  // The object is read as it is (no copy) unless it has references to follow.
  return {std::move(kind), std::move(role), &objects,
          [claim_document_of](const json& object, const std::string& table) {
            if (!claim_document_of) return names_table(object, table);
            const auto document = claim_document_of(object);
            return document && names_table(*document, table);
          },
          [&backend, database_ref_of,
           claim_document_of](const json& object) -> std::optional<std::string> {
            std::optional<std::optional<DatabaseRef>> ref;
            if (!claim_document_of) {
              ref = database_ref_of(object);
            } else if (const auto document = claim_document_of(object)) {
              ref = database_ref_of(*document);
            }
            if (!ref) return std::nullopt;
            const ResolvedDsn dsn = backend.resolve_dsn(object, *ref);
            if (!dsn.dsn) return std::nullopt;
            return redact_dsn(*dsn.dsn);
          }};
}

}  // namespace partop::controller

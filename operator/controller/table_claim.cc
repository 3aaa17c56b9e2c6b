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
  // An object without references is found through the store's index of spec.table (read in
  // place); one with references is read with them followed, and so cannot be indexed by its own
  // content: every object of its kind is visited (such kinds have few objects).
  return {std::move(kind), std::move(role),
          [&objects, claim_document_of, index = runtime::table_index()](
              const std::string& table, const std::function<void(const json&)>& visit) {
            if (!claim_document_of) return objects.for_each_indexed(index, table, visit);
            objects.for_each([&](const json& object) {
              const auto document = claim_document_of(object);
              if (document && names_table(*document, table)) visit(object);
            });
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

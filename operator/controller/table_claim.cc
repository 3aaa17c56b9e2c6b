#include "operator/controller/table_claim.h"

#include "reconcilers/partition/db_session.h"

namespace partop::controller {
namespace {

using nlohmann::json;

std::string table_in(const json& document) {
  const json table = document.value("spec", json::object()).value("table", json());
  return table.is_string() ? runtime::normalized_table(table.get<std::string>()) : std::string();
}

}  // namespace

runtime::ClaimingKind table_claim(std::string kind, std::string role,
                                  const runtime::ObjectStore& objects, const PolicyBackend& backend,
                                  DatabaseRefOf database_ref_of,
                                  ClaimDocumentOf claim_document_of) {
  // The object is read as it is (no copy) unless it has references to follow.
  return {std::move(kind), std::move(role), &objects,
          [claim_document_of](const json& object) {
            if (!claim_document_of) return table_in(object);
            const auto document = claim_document_of(object);
            return document ? table_in(*document) : std::string();
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

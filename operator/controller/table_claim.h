// How a kind whose objects name spec.table and spec.databaseRef claims tables (TableClaims): the
// table is read off the document (once its references are followed), the database is the DSN
// (without its password) the backend resolves from the object's databaseRef.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/policy_backend.h"
#include "operator/runtime/table_claims.h"

namespace partop::controller {

// The databaseRef of a parsed object; nullopt when the object does not parse (it claims nothing).
using DatabaseRefOf =
    std::function<std::optional<std::optional<DatabaseRef>>(const nlohmann::json& object)>;
// The document a claim is read from: the object with its references followed; nullopt when
// they cannot be (it claims nothing).
using ClaimDocumentOf = std::function<std::optional<nlohmann::json>(const nlohmann::json& object)>;

// `backend` must outlive the claims. Without `claim_document_of` the object itself is read.
runtime::ClaimingKind table_claim(std::string kind, std::string role,
                                  const runtime::ObjectStore& objects, const PolicyBackend& backend,
                                  DatabaseRefOf database_ref_of,
                                  ClaimDocumentOf claim_document_of = nullptr);

}  // namespace partop::controller

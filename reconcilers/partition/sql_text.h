// Quoting for the SQL partop generates. Identifiers are always double-quoted (so case and
// reserved words are preserved and nothing in a name can end the quote); literals partop writes
// come only from validated numbers and fixed vocabularies, and go through quote_literal.
#pragma once

#include <string>
#include <string_view>

#include "reconcilers/partition/policy.h"

namespace partop::sql {

// "name" with embedded double quotes doubled, as PostgreSQL's quote_ident does when quoting.
std::string identifier(std::string_view name);
// "schema"."name"
std::string qualified(const QualifiedName& name);
// 'text' with embedded single quotes doubled; for standard_conforming_strings=on.
std::string literal(std::string_view text);
// `body` between dollar quotes whose tag does not occur in it, so nothing in it can end the quote.
std::string dollar_quoted(std::string_view body);
// CREATE OR REPLACE FUNCTION name() of a plpgsql trigger running `body` as its owner (SECURITY
// DEFINER, search_path pinned to pg_catalog so no object of the caller's can stand in).
std::string trigger_function(const QualifiedName& name, std::string_view body);

}  // namespace partop::sql

#include "reconcilers/partition/ddl.h"

#include <set>

#include "reconcilers/partition/layout.h"
#include "reconcilers/partition/sql_text.h"

namespace partop {

std::string TableDdl::literal(KeyValue value) const {
  return key_literal(*table_.key_type, value);
}

std::string TableDdl::notify() const {
  // The payload is the quoted name, so `payload::regclass` finds the table whatever its case.
  return "SELECT pg_notify(" + sql::literal(kPartitionMapChannel) + ", " +
         sql::literal(sql::qualified(table_.name)) + ")";
}

std::vector<std::string> TableDdl::adopt(const QualifiedName& name) const {
  std::vector<std::string> out;
  // Needs partop's role to be a member of the owner's role; it then keeps acting through that
  // membership, so the grants below are recorded as the owner's.
  if (!table_.owner.empty())
    out.push_back("ALTER TABLE " + sql::qualified(name) + " OWNER TO " +
                  sql::identifier(table_.owner));
  if (table_.replica_identity == 'f' || table_.replica_identity == 'n') {
    out.push_back("ALTER TABLE " + sql::qualified(name) + " REPLICA IDENTITY " +
                  (table_.replica_identity == 'f' ? "FULL" : "NOTHING"));
  }
  static const std::set<std::string, std::less<>> kPrivileges = {
      "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"};
  for (const ObservedGrant& grant : table_.grants) {
    if (!kPrivileges.count(grant.privilege)) continue;  // none other exists for tables
    out.push_back("GRANT " + grant.privilege +
                  (grant.column.empty() ? "" : " (" + sql::identifier(grant.column) + ")") +
                  " ON " + sql::qualified(name) + " TO " +
                  (grant.grantee.empty() ? "PUBLIC" : sql::identifier(grant.grantee)) +
                  (grant.grantable ? " WITH GRANT OPTION" : ""));
  }
  return out;
}

std::vector<std::string> TableDdl::create_default(const QualifiedName& name) const {
  std::vector<std::string> out = {"CREATE TABLE " + sql::qualified(name) + " (LIKE " +
                                  sql::qualified(table_.name) + " " + std::string(kLikeOptions) +
                                  ")"};
  for (auto& statement : adopt(name)) out.push_back(std::move(statement));
  out.push_back("ALTER TABLE " + sql::qualified(table_.name) + " ATTACH PARTITION " +
                sql::qualified(name) + " DEFAULT");
  out.push_back(notify());
  return out;
}

std::string TableDdl::columns_sql(const std::vector<std::string>& columns) const {
  std::string out;
  for (const auto& column : columns) out += (out.empty() ? "" : ", ") + sql::identifier(column);
  return out;
}

std::string TableDdl::index_definition(const IndexSpec& index) const {
  std::string out = " USING " + index.method + " (" + columns_sql(index.columns) + ")";
  if (!index.include.empty()) out += " INCLUDE (" + columns_sql(index.include) + ")";
  if (!index.where.empty()) out += " WHERE " + index.where;
  return out;
}

std::string TableDdl::create_parent_index(const IndexSpec& index) const {
  return std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX " +
         sql::identifier(index.name) + " ON ONLY " + sql::qualified(table_.name) +
         index_definition(index);
}

std::string TableDdl::build_partition_index(const QualifiedName& child,
                                            const QualifiedName& partition,
                                            const IndexSpec& index) const {
  return std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX CONCURRENTLY " +
         sql::identifier(child.name) + " ON " + sql::qualified(partition) + index_definition(index);
}

std::string TableDdl::attach_index(const std::string& parent_index,
                                   const QualifiedName& child) const {
  return "ALTER INDEX " + sql::qualified(sibling(parent_index)) + " ATTACH PARTITION " +
         sql::qualified(child);
}

std::string TableDdl::reindex(const QualifiedName& index) {
  return "REINDEX INDEX CONCURRENTLY " + sql::qualified(index);
}

std::vector<std::string> TableDdl::remove_partition(const QualifiedName& partition,
                                                    bool drop) const {
  return {drop ? "DROP TABLE " + sql::qualified(partition)
               : "ALTER TABLE " + sql::qualified(table_.name) + " DETACH PARTITION " +
                     sql::qualified(partition),
          notify()};
}

std::string TableDdl::bound_check(KeyValue lower, KeyValue upper) const {
  const std::string key = sql::identifier(table_.key_column);
  return "CHECK (" + key + " IS NOT NULL AND " + key + " >= " + literal(lower) + " AND " + key +
         " < " + literal(upper) + ")";
}

TableDdl::NewPartition TableDdl::create_partition(
    const QualifiedName& name, KeyValue lower, KeyValue upper,
    const std::optional<QualifiedName>& drain_from) const {
  const std::string key = sql::identifier(table_.key_column);
  PartitionShape shape;
  shape.bound = "FOR VALUES FROM (" + literal(lower) + ") TO (" + literal(upper) + ")";
  shape.rows = key + " >= " + literal(lower) + " AND " + key + " < " + literal(upper);
  return create_partition(name, shape, drain_from);
}

std::string TableDdl::create_index(const std::string& name, const QualifiedName& table,
                                   const IndexSpec& index) const {
  return std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX " +
         sql::identifier(name) + " ON " + sql::qualified(table) + index_definition(index);
}

TableDdl::NewPartition TableDdl::create_partition(
    const QualifiedName& name, const PartitionShape& shape,
    const std::optional<QualifiedName>& drain_from) const {
  NewPartition out;
  auto& statements = out.statements;
  const std::string table = sql::qualified(name);
  const bool sub_tree = !shape.partition_by.empty();
  std::string like = std::string(kLikeOptions);
  if (sub_tree) {
    constexpr std::string_view kIndexes = " INCLUDING INDEXES";
    like.erase(like.find(kIndexes), kIndexes.size());
  }
  statements.push_back("CREATE TABLE " + table + " (LIKE " + sql::qualified(table_.name) + " " +
                       like + ")" + (sub_tree ? " " + shape.partition_by : ""));
  for (auto& statement : adopt(name)) statements.push_back(std::move(statement));
  for (const auto& statement : shape.setup) statements.push_back(statement);
  std::string refill;
  if (drain_from) {
    const std::string default_table = sql::qualified(*drain_from);
    const std::string columns = columns_sql(table_.columns);
    const std::string moving = sql::identifier(kDrainTable);
    // EXCLUSIVE keeps new rows out of DEFAULT while the move runs but lets readers through;
    // ATTACH then takes ACCESS EXCLUSIVE on DEFAULT briefly to verify it.
    statements.push_back("LOCK TABLE ONLY " + default_table + " IN EXCLUSIVE MODE");
    // The rows leave DEFAULT through a session-private table and come back in through the
    // parent once the partition is attached: logical replication (a publication of the
    // partitioned table) and the parent's row triggers see a DELETE and an INSERT of each row in
    // one transaction. An insert into the table before it is attached would be seen by neither.
    statements.push_back("CREATE TEMPORARY TABLE " + moving + " ON COMMIT DROP AS SELECT " +
                         columns + " FROM ONLY " + default_table + " WITH NO DATA");
    out.moved_rows_statement = statements.size();
    statements.push_back("WITH moved AS (DELETE FROM ONLY " + default_table + " WHERE " +
                         shape.rows + " RETURNING " + columns + ") INSERT INTO " + moving + " (" +
                         columns + ") SELECT " + columns + " FROM moved");
    // OVERRIDING SYSTEM VALUE: the rows keep the ids an identity column gave them.
    refill = "INSERT INTO " + sql::qualified(table_.name) + " (" + columns +
             ") OVERRIDING SYSTEM VALUE SELECT " + columns + " FROM " + moving;
  }
  statements.push_back("ALTER TABLE " + sql::qualified(table_.name) + " ATTACH PARTITION " + table +
                       " " + shape.bound);
  if (!refill.empty()) statements.push_back(refill);
  statements.push_back(notify());
  return out;
}

}  // namespace partop

// Catalog observations for unit tests of planners (no database): a range-partitioned table as
// the catalog reader would report it. Header-only, so that the fuzz target, which compiles its
// sources itself, can use it too.
#pragma once

#include <string>
#include <vector>

#include "reconcilers/partition/catalog.h"

namespace partop::testing {

// `name`, partitioned by RANGE on the single column `key_column` whose type the catalog names
// `key_type_name` ("timestamp with time zone", "bigint", ...), with `columns`; no partitions yet.
inline ObservedTable range_partitioned_table(QualifiedName name, std::string key_column,
                                             std::string key_type_name,
                                             std::vector<std::string> columns) {
  ObservedTable table;
  table.name = std::move(name);
  table.exists = true;
  table.relkind = 'p';
  table.strategy = "range";
  table.key_column_count = 1;
  table.key_column = std::move(key_column);
  table.key_type_name = std::move(key_type_name);
  table.key_type = key_type_from_sql(table.key_type_name);
  table.columns = std::move(columns);
  return table;
}

}  // namespace partop::testing

#include "reconcilers/list/observed_list.h"

#include <regex>

namespace partop {

const ObservedListPartition* ObservedListTable::default_partition() const {
  for (const auto& partition : partitions) {
    if (partition.is_default) return &partition;
  }
  return nullptr;
}

const ObservedListPartition* ObservedListTable::partition_for(const std::string& value) const {
  for (const auto& partition : partitions) {
    for (const auto& held : partition.values) {
      if (held == value) return &partition;
    }
  }
  return nullptr;
}

bool supported_list_key_type(const std::string& type_name) {
  static const std::regex kTypes(R"(^(text|integer|bigint|uuid|character varying(\([0-9]+\))?)$)");
  return std::regex_match(type_name, kTypes);
}

}  // namespace partop

#include "reconcilers/partition/spec_fields.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "reconcilers/partition/index_predicate.h"

namespace partop {
namespace {

using nlohmann::json;

bool is_system_schema(std::string_view schema) {
  return schema == "information_schema" || schema.substr(0, 3) == "pg_";
}

// Kubernetes resource quantity ("500Gi", "1T", "1000000") to bytes.
std::optional<int64_t> parse_quantity(const std::string& text) {
  static const std::regex kQuantity(R"(^([0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$)");
  std::smatch match;
  if (!std::regex_match(text, match, kQuantity) || match[1].length() > 15) return std::nullopt;
  static const std::map<std::string, long double> kScale = {{"", 1},
                                                            {"k", 1e3},
                                                            {"M", 1e6},
                                                            {"G", 1e9},
                                                            {"T", 1e12},
                                                            {"P", 1e15},
                                                            {"E", 1e18},
                                                            {"Ki", 1024.0},
                                                            {"Mi", 1048576.0},
                                                            {"Gi", 1073741824.0},
                                                            {"Ti", 1099511627776.0},
                                                            {"Pi", 1125899906842624.0},
                                                            {"Ei", 1152921504606846976.0}};
  const long double bytes = std::stold(match[1].str()) * kScale.at(match[2].str());
  if (bytes <= 0 || bytes > 9e18L) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

}  // namespace

std::optional<QualifiedName> read_table_name(ObjectReader& spec, std::string_view key) {
  const auto text = spec.string(key);
  if (!text) return std::nullopt;
  const auto dot = text->find('.');
  QualifiedName table{"public", *text};
  if (dot != std::string::npos) table = {text->substr(0, dot), text->substr(dot + 1)};
  if (!is_valid_identifier(table.schema) || !is_valid_identifier(table.name)) {
    spec.error(key,
               "must be name or schema.name, each a SQL identifier (letters, digits, _ "
               "or $, at most 63 bytes), got " +
                   quote_value(*text));
    return std::nullopt;
  }
  if (is_system_schema(table.schema)) {
    spec.error(key, "names system schema " + quote_value(table.schema) +
                        "; partop manages only user tables");
    return std::nullopt;
  }
  return table;
}

std::optional<IntervalSpec> read_interval(ObjectReader& spec) {
  const json* value = spec.get("interval");
  if (value == nullptr) return std::nullopt;
  IntervalSpec interval;
  interval.text = value->is_string() ? value->get<std::string>() : dump_text(*value);
  if (value->is_string()) {
    interval.unit = time_unit_from_name(value->get<std::string>());
    if (interval.unit) return interval;
    const std::string& text = value->get_ref<const std::string&>();
    if (!text.empty() && text.size() < 19 &&
        std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
      interval.width = std::stoll(text);
    }
  } else if (value->is_number_integer()) {
    interval.width = value->get<int64_t>();
  }
  if (interval.width <= 0) {
    spec.error("interval",
               "must be one of hourly, daily, weekly, monthly, quarterly, yearly, or "
               "a positive integer for integer keys, got " +
                   quote_value(*value));
    return std::nullopt;
  }
  return interval;
}

std::vector<std::string> read_identifier_list(ObjectReader& reader, std::string_view key) {
  std::vector<std::string> names;
  const json* list = reader.list(key);
  if (list == nullptr) return names;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (!item.is_string() || !is_valid_identifier(item.get<std::string>())) {
      reader.error(item_key, "must be a column name (SQL identifier), got " + quote_value(item));
      continue;
    }
    names.push_back(item.get<std::string>());
  }
  return names;
}

std::vector<IndexSpec> read_indexes(ObjectReader& spec, std::vector<FieldError>& errors) {
  std::vector<IndexSpec> indexes;
  const json* list = spec.list("indexes");
  if (list == nullptr) return indexes;
  std::set<std::string> names;
  static const std::set<std::string> kMethods = {"btree", "hash", "brin", "gin", "gist"};
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string path = spec.field_path("indexes[" + std::to_string(i) + "]");
    if (!(*list)[i].is_object()) {
      errors.push_back({path, "must be an object, got " + type_name((*list)[i])});
      continue;
    }
    ObjectReader reader((*list)[i], path, errors);
    IndexSpec index;
    reader.require("name");
    index.name = reader.identifier("name").value_or("");
    reader.require("columns");
    index.columns = read_identifier_list(reader, "columns");
    if (reader.get("columns") != nullptr && reader.get("columns")->is_array() &&
        reader.get("columns")->empty()) {
      reader.error("columns", "must name at least one column");
    }
    index.unique = reader.boolean("unique").value_or(false);
    if (auto method = reader.string("method")) {
      if (!kMethods.count(*method)) {
        reader.error("method",
                     "must be one of btree, hash, brin, gin, gist, got " + quote_value(*method));
      }
      index.method = *method;
    }
    index.include = read_identifier_list(reader, "include");
    if (auto where = reader.string("where")) {
      std::string error;
      if (auto predicate = parse_index_predicate(*where, error)) {
        index.where = predicate->sql;
        index.where_columns = predicate->columns;
      } else {
        reader.error("where", error);
      }
    }
    if (index.unique && index.method != "btree") {
      reader.error("unique", "unique indexes must use method btree");
    }
    if (!index.include.empty() && index.method != "btree" && index.method != "gist") {
      reader.error("include", "only btree and gist indexes support include columns");
    }
    if (!index.name.empty() && !names.insert(index.name).second) {
      reader.error("name", "duplicates index name " + quote_value(index.name));
    }
    reader.finish();
    indexes.push_back(std::move(index));
  }
  return indexes;
}

void read_guards(const json& object, const std::string& path, GuardSpec& guards,
                 std::vector<FieldError>& errors) {
  ObjectReader reader(object, path, errors);
  guards.lock_timeout = reader.duration("lockTimeout").value_or(guards.lock_timeout);
  guards.statement_timeout = reader.duration("statementTimeout").value_or(guards.statement_timeout);
  guards.drain_timeout = reader.duration("drainTimeout").value_or(guards.drain_timeout);
  guards.index_build_timeout =
      reader.duration("indexBuildTimeout").value_or(guards.index_build_timeout);
  guards.max_replication_lag =
      reader.duration("maxReplicationLag").value_or(guards.max_replication_lag);
  if (const json* storage = reader.object("storage")) {
    ObjectReader storage_reader(*storage, reader.field_path("storage"), errors);
    StorageGuardSpec spec;
    storage_reader.require("capacity");
    if (auto capacity = storage_reader.string("capacity")) {
      if (auto bytes = parse_quantity(*capacity)) {
        spec.capacity_bytes = *bytes;
      } else {
        storage_reader.error("capacity", "must be a positive quantity such as 500Gi or 2Ti, got " +
                                             quote_value(*capacity));
      }
    }
    spec.threshold_percent =
        static_cast<int>(storage_reader.integer("thresholdPercent", 1, 100).value_or(80));
    storage_reader.finish();
    guards.storage = spec;
  }
  reader.finish();
  for (const auto& [field, timeout] :
       {std::pair{"statementTimeout", guards.statement_timeout},
        std::pair{"drainTimeout", guards.drain_timeout},
        std::pair{"indexBuildTimeout", guards.index_build_timeout}}) {
    if (timeout < guards.lock_timeout) {
      errors.push_back({path + "." + field,
                        "must not be shorter than lockTimeout: a statement would be cancelled "
                        "while still allowed to wait for its lock"});
    }
  }
}

std::optional<DatabaseRef> read_database_ref(const json& object, const std::string& path,
                                             std::vector<FieldError>& errors) {
  ObjectReader reader(object, path, errors);
  DatabaseRef ref;
  reader.require("secretName");
  static const std::regex kDnsName(R"(^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$)");
  if (auto name = reader.string("secretName")) {
    if (!std::regex_match(*name, kDnsName)) {
      reader.error("secretName", "must be a Kubernetes object name, got " + quote_value(*name));
    }
    ref.secret_name = *name;
  }
  static const std::regex kSecretKey(R"(^[-._a-zA-Z0-9]{1,253}$)");
  if (auto key = reader.string("key")) {
    if (!std::regex_match(*key, kSecretKey)) {
      reader.error("key", "must be a Secret data key, got " + quote_value(*key));
    }
    ref.key = *key;
  }
  reader.finish();
  return ref;
}

}  // namespace partop

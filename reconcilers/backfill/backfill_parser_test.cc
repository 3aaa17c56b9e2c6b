#include "reconcilers/backfill/backfill_parser.h"

#include <doctest/doctest.h>

#include "reconcilers/document/yaml_documents.h"

namespace partop {
namespace {

ParsedBackfill parse(const std::string& spec_yaml) {
  const YamlDocuments documents = read_yaml_documents(
      "apiVersion: partop.dev/v1alpha1\nkind: PartitionBackfill\nmetadata: {name: fix}\n"
      "spec:\n" +
      spec_yaml);
  REQUIRE_FALSE(documents.error.has_value());
  return parse_backfill(documents.documents.at(0).value);
}

}  // namespace

TEST_CASE("a backfill spec reads with its defaults") {
  const ParsedBackfill parsed = parse(
      "  table: metrics.daily_usage\n  source: metrics.daily_usage_v2\n"
      "  range: {from: \"2026-01-01\", to: \"2026-07-01\"}\n");
  REQUIRE_MESSAGE(parsed.ok(), parsed.error_summary());
  const BackfillSpec& spec = parsed.backfill->spec;
  CHECK(spec.table.display() == "metrics.daily_usage");
  CHECK(spec.source.display() == "metrics.daily_usage_v2");
  CHECK(spec.from.time == epoch_seconds(2026, 1, 1));
  CHECK(spec.to.time == epoch_seconds(2026, 7, 1));
  CHECK_FALSE(spec.from.integer.has_value());
  CHECK(spec.order == BackfillOrder::kOldestFirst);
  CHECK(spec.replaced == ReplacedPartition::kKeep);
  CHECK(spec.pause_between.count() == 0);
  CHECK_FALSE(spec.slices_per_partition.has_value());
  CHECK_FALSE(spec.suspend);
}

TEST_CASE("a backfill spec takes times, integers and every option") {
  const ParsedBackfill parsed = parse(
      "  table: t\n  source: s\n  range: {from: \"2026-01-01T06:00:00Z\", to: 2000}\n"
      "  order: newestFirst\n  pauseBetween: 5s\n  replaced: drop\n  suspend: true\n"
      "  slicesPerPartition: 4\n");
  REQUIRE_MESSAGE(parsed.ok(), parsed.error_summary());
  const BackfillSpec& spec = parsed.backfill->spec;
  CHECK(spec.from.time == epoch_seconds(2026, 1, 1, 6));
  CHECK(spec.to.integer == 2000);
  CHECK(spec.order == BackfillOrder::kNewestFirst);
  CHECK(spec.replaced == ReplacedPartition::kDrop);
  CHECK(spec.pause_between == std::chrono::seconds(5));
  CHECK(spec.suspend);
  CHECK(spec.slices_per_partition == 4);
}

TEST_CASE("bad backfill specs name their fields") {
  const auto errors_of = [](const std::string& spec_yaml) {
    return parse(spec_yaml).error_summary();
  };
  CHECK(errors_of("  source: s\n  range: {from: 1, to: 2}\n").find("spec.table: is required") !=
        std::string::npos);
  CHECK(errors_of("  table: t\n  range: {from: 1, to: 2}\n").find("spec.source: is required") !=
        std::string::npos);
  CHECK(errors_of("  table: t\n  source: \"x; DROP TABLE t\"\n  range: {from: 1, to: 2}\n")
            .find("spec.source") != std::string::npos);
  CHECK(errors_of("  table: t\n  source: s\n  range: {from: \"2026-02-30\", to: 2}\n")
            .find("spec.range.from: must be a date") != std::string::npos);
  CHECK(errors_of("  table: t\n  source: s\n  range: {from: \"2026-03-01\", to: \"2026-02-01\"}\n")
            .find("spec.range: from (2026-03-01) must be before to (2026-02-01)") !=
        std::string::npos);
  CHECK(errors_of("  table: t\n  source: s\n  range: {from: 1}\n")
            .find("spec.range.to: is required") != std::string::npos);
  CHECK(errors_of("  table: t\n  source: t\n  range: {from: 1, to: 2}\n")
            .find("spec.source: must not be the table itself") != std::string::npos);
  CHECK(errors_of("  table: t\n  source: s\n  range: {from: 1, to: 2}\n  order: random\n")
            .find("spec.order: must be oldestFirst or newestFirst") != std::string::npos);
  CHECK(errors_of("  table: t\n  source: s\n  range: {from: 1, to: 2}\n  replaced: archive\n")
            .find("spec.replaced: must be keep or drop") != std::string::npos);
  CHECK(errors_of("  table: t\n  source: s\n  range: {from: 1, to: 2}\n  sql: \"DELETE\"\n")
            .find("spec.sql") != std::string::npos);
}

}  // namespace partop

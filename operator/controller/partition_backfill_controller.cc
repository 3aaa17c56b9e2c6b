#include "operator/controller/partition_backfill_controller.h"

#include "reconcilers/backfill/backfill_parser.h"

namespace partop::controller {

std::optional<Backfill> BackfillKind::parse(const nlohmann::json& object, std::string& errors) {
  ParsedBackfill parsed = parse_backfill(object);
  errors = parsed.error_summary();
  return std::move(parsed.backfill);
}

}  // namespace partop::controller

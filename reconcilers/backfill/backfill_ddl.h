// The SQL of a PartitionBackfill's steps for one partition, as text: identifiers quoted by
// sql_text, values literals of the key type or of names partop read from the catalog. Each
// method returns the statements of one transaction; the planner decides when each runs.
#pragma once

#include <string>
#include <vector>

#include "reconcilers/backfill/backfill.h"
#include "reconcilers/backfill/backfill_catalog.h"

namespace partop {

class BackfillDdl {
 public:
  // `observed.current` must be set, and the table must have passed the planner's checks.
  BackfillDdl(const Backfill& backfill, const ObservedBackfill& observed);

  QualifiedName shadow() const;
  QualifiedName replaced() const;  // the name a kept partition takes

  // Creates the control table (once), the shadow (the parent's columns and constraints, the live
  // partition's owner, grants and replica identity, a CHECK of the bounds), the triggers that
  // count the application's writes into the live partition, and the partition's control row
  // (state building, nothing filled). Drops a shadow left from an earlier attempt.
  std::vector<std::string> start() const;
  // The source's rows in [from, to) into the shadow, and the progress, in one transaction.
  std::vector<std::string> fill_slice(KeyValue from, KeyValue to) const;
  // One index of the live partition, on the shadow under a derived name.
  std::vector<std::string> build_index(const LiveIndex& index) const;
  // One foreign key of the live partition on the shadow, NOT VALID: the referenced table is
  // locked (SHARE ROW EXCLUSIVE) only for this short transaction, not for the validation.
  std::vector<std::string> add_foreign_key(const std::string& name,
                                           const std::string& definition) const;
  // The foreign keys validated (no lock on the referenced tables that stops writers), ANALYZE,
  // state ready.
  std::vector<std::string> finish() const;
  // Under ACCESS EXCLUSIVE on the parent, then the live partition: refuses
  // (kPartopConflictSqlstate) if the application wrote into the live partition since the start;
  // otherwise detaches it (kept under another name, or dropped), gives the shadow its name and its
  // indexes' names, attaches it with the same bounds and records the swap.
  std::vector<std::string> swap() const;
  // After a conflict: the shadow and the triggers go, the row waits (state pending) for the end
  // of the pass.
  std::vector<std::string> set_aside() const;

 private:
  std::string control_table() const;
  std::string row_where() const;
  std::string trigger_arguments() const;

  const Backfill& backfill_;
  const ObservedBackfill& observed_;
  const LivePartition& live_;
};

}  // namespace partop

// A Source of notices, heard from PostgreSQL, that a list policy's values may have changed. For
// every database some list PartitionPolicy reads, one connection LISTENs on kListValuesChannel;
// each payload (a table's name) becomes a change of the object keyed by that table's
// schema-qualified name, which the PartitionPolicy controller maps to the list policies whose
// values come from that table, or whose table it is (list_policies_for_table). So a tenant row
// inserted by the application — with the trigger the README shows, or a NOTIFY of its own —
// reaches a reconcile at once instead of at the next resync.
//
// The databases are worked out again from the policies (and their Secrets) every `rescan`;
// connections no policy needs any more are closed. A lost connection is retried with backoff,
// and after every (re)connect each table that database's policies read is delivered once, since
// notices sent while nobody listened are lost.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "operator/controller/policy_backend.h"
#include "operator/runtime/informer_source.h"
#include "operator/runtime/keyed_store.h"
#include "operator/runtime/object_store.h"
#include "operator/runtime/source.h"
#include "reconcilers/partition/notification_listener.h"

namespace partop::controller {

// The manager's name for the source of these notices (no API resource).
const runtime::Resource& list_value_notices();

// The keys of the list policies in `policies` whose spec.list.valuesFrom.table, or whose
// spec.table, is `table` ("schema.name"; a name without a schema is in schema public).
std::vector<std::string> list_policies_for_table(const runtime::ObjectStore& policies,
                                                 const std::string& table);

class ListValueNotifications : public runtime::Source {
 public:
  ListValueNotifications(const runtime::ObjectStore& policies, const PolicyBackend& backend,
                         NotificationConnector& connector,
                         std::chrono::milliseconds rescan = std::chrono::seconds(5));

  // The last notice per table: {"table": ..., "count": n}.
  const runtime::ObjectStore& store() const override { return notices_; }
  void add_handler(Handler handler) override;
  bool synced() const override { return true; }  // nothing to list first
  void run(const std::atomic<bool>& stop) override;

 private:
  // Database URI -> the tables its list policies read (their sources and their own tables).
  std::map<std::string, std::set<std::string>> wanted() const;
  // One database's listener, until `stop` or until the database is no longer wanted.
  void listen(const std::string& dsn, const std::atomic<bool>& stop,
              const std::atomic<bool>& unwanted);
  void deliver(const std::string& table);

  const runtime::ObjectStore& policies_;
  const PolicyBackend& backend_;
  NotificationConnector& connector_;
  const std::chrono::milliseconds rescan_;
  std::vector<Handler> handlers_;
  runtime::KeyedStore notices_;                          // by table
  std::mutex mutex_;                                     // for tables_
  std::map<std::string, std::set<std::string>> tables_;  // the last wanted(), by database
};

}  // namespace partop::controller

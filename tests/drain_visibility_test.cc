// A DEFAULT drain is a move for everyone who watches the table: a logical-replication subscriber
// (publish_via_partition_root) ends with exactly the publisher's rows, and row triggers on the
// parent see every row leave DEFAULT and arrive in its partition, never half of it.
#include <doctest/doctest.h>

#include <thread>

#include "reconcilers/partition/pg_session.h"
#include "tests/support/test_database.h"

namespace partop::testing {
namespace {

constexpr int kRows = 3000;

// events with an identity key, a DEFAULT holding three days of rows, and nothing else.
void create_events_in_default(const TestDatabase& db) {
  db.exec(
      "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT "
      "NULL, payload text, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);"
      "CREATE TABLE events_default PARTITION OF events DEFAULT;");
}

void insert_rows(const TestDatabase& db) {
  db.exec(
      "INSERT INTO events (created_at, payload) SELECT now() - interval '3 days' + i * "
      "interval '1 minute' * 4320 / " +
      std::to_string(kRows) + ", 'row ' || i FROM generate_series(1, " + std::to_string(kRows) +
      ") i");
}

const char* kChecksum =
    "SELECT count(*) || '/' || sum(hashtext(id || created_at::text || payload))"
    " FROM events";

// The test database's twin on the subscriber server, subscribed to `publication`; dropped (with
// its subscription, which frees the publisher's slot) before the publisher's database.
class Subscriber {
 public:
  Subscriber(const TestDatabase& publisher, const std::string& publication)
      : server_(open_pg_session(*subscriber_dsn())), name_(publisher.name()) {
    server_->query("CREATE DATABASE " + name_);
    std::string dsn = *subscriber_dsn();
    dsn.replace(dsn.rfind('/') + 1, std::string::npos, name_);
    session_ = open_pg_session(dsn);
    session_->query(
        "CREATE TABLE events (id bigint, created_at timestamptz NOT NULL, payload text,"
        " PRIMARY KEY (id, created_at))");
    session_->query("CREATE SUBSCRIPTION " + name_ + "_sub CONNECTION '" + publisher.dsn() +
                    "' PUBLICATION " + publication);
  }
  ~Subscriber() {
    session_->query("DROP SUBSCRIPTION " + name_ + "_sub");
    session_.reset();
    server_->query("DROP DATABASE " + name_ + " WITH (FORCE)");
  }
  std::string scalar(const std::string& sql) {
    const SqlRows rows = session_->query(sql);
    return rows.empty() || !rows[0][0] ? "" : *rows[0][0];
  }
  // Waits up to 20 s until the subscriber confirmed everything the publisher wrote until now.
  void wait_caught_up(const TestDatabase& publisher) {
    const std::string lsn = publisher.scalar("SELECT pg_current_wal_lsn()");
    for (int i = 0; i < 200; ++i) {
      if (publisher.scalar("SELECT confirmed_flush_lsn >= '" + lsn +
                           "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + name_ +
                           "_sub'") == "t")
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("the subscriber did not catch up within 20 s");
  }
  // Waits up to 20 s for the subscriber's answer to `sql` to equal `expected`.
  std::string wait_for(const std::string& sql, const std::string& expected) {
    std::string got;
    for (int i = 0; i < 200 && (got = scalar(sql)) != expected; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return got;
  }

 private:
  std::unique_ptr<DatabaseSession> server_;
  std::unique_ptr<DatabaseSession> session_;
  std::string name_;
};

}  // namespace

TEST_CASE("a logical-replication subscriber holds exactly the publisher's rows after a drain") {
  REQUIRE(subscriber_dsn().has_value());
  TestDatabase db;
  create_events_in_default(db);
  insert_rows(db);
  db.exec("CREATE PUBLICATION events_pub FOR TABLE events WITH (publish_via_partition_root)");
  Subscriber subscriber(db, "events_pub");
  const std::string before = db.scalar(kChecksum);
  REQUIRE(subscriber.wait_for(kChecksum, before) == before);  // the initial copy

  const Outcome outcome =
      apply_policy(db, make_policy("  table: events\n  interval: daily\n  premake: 2\n"));
  REQUIRE_MESSAGE(outcome.ready(), outcome.condition("Ready")->message);
  CHECK(outcome.rows_drained == kRows);
  CHECK(db.count("SELECT count(*) FROM ONLY events_default") == 0);
  CHECK(db.scalar(kChecksum) == before);
  subscriber.wait_caught_up(db);
  CHECK(subscriber.scalar(kChecksum) == before);
}

TEST_CASE("row triggers on the parent see every drained row leave DEFAULT and arrive") {
  TestDatabase db;
  create_events_in_default(db);
  db.exec(R"(
    CREATE TABLE audit (op text, id bigint, at_table text);
    CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO audit VALUES (TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
                                  TG_TABLE_NAME);
        RETURN NULL;
      END $$;
    CREATE TRIGGER events_audit AFTER INSERT OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION audit_row();)");
  insert_rows(db);
  db.exec("TRUNCATE audit");
  REQUIRE(
      apply_policy(db, make_policy("  table: events\n  interval: daily\n  premake: 2\n")).ready());
  CHECK(db.count("SELECT count(*) FROM audit WHERE op = 'DELETE'") == kRows);
  CHECK(db.count("SELECT count(*) FROM audit WHERE op = 'INSERT'") == kRows);
  // The same rows: every id that left arrived, from DEFAULT into real partitions.
  CHECK(db.count("SELECT count(*) FROM (SELECT id FROM audit WHERE op = 'DELETE' EXCEPT"
                 " SELECT id FROM audit WHERE op = 'INSERT') missing") == 0);
  CHECK(db.count("SELECT count(*) FROM audit WHERE op = 'DELETE' AND at_table <> "
                 "'events_default'") == 0);
  CHECK(db.count("SELECT count(*) FROM audit WHERE op = 'INSERT' AND at_table = "
                 "'events_default'") == 0);
}

}  // namespace partop::testing

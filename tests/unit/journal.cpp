#define CAF_SUITE unit.journal
#include "journal/journal.hpp"

#include "caf/test/unit_test.hpp"

#include <cstdio>
#include <unistd.h>

#include "protocol/plan.hpp"

#include <sqlite3.h>

using namespace athanor;

namespace {

struct fixture {
  std::string path;

  fixture() {
    char name[] = "/tmp/athanor-journal-XXXXXX";
    auto fd = mkstemp(name);
    close(fd);
    path = name;
  }

  ~fixture() {
    for (auto suffix : {"", "-wal", "-shm"})
      std::remove((path + suffix).c_str());
  }

  std::unique_ptr<journal> open() {
    std::string error;
    auto result = journal::open({path, false}, error);
    if (!result)
      CAF_FAIL("journal did not open: " << error);
    return result;
  }

  static plan two_items(std::string id) {
    plan p;
    p.plan_id = std::move(id);
    p.correlation_id = "c-" + p.plan_id;
    for (auto symbol : {"AAPL", "MSFT"}) {
      plan_item item;
      item.symbol = symbol;
      item.qty = decimal::from_integer(3);
      p.items.push_back(item);
    }
    return p;
  }

  static plan_result pending_of(const plan& p) {
    plan_result r;
    r.plan_id = p.plan_id;
    r.correlation_id = p.correlation_id;
    for (uint32_t i = 0; i < p.items.size(); ++i) {
      item_result x;
      x.index = i;
      x.symbol = p.items[i].symbol;
      x.client_order_id = protocol::client_order_id_of(p.plan_id, i);
      r.items.push_back(x);
    }
    return r;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(journal_tests, fixture)

CAF_TEST(a plan survives reopening with its items) {
  auto p = two_items("p1");
  std::string error;
  {
    auto j = open();
    CAF_REQUIRE(j->record_plan(p, "hash1", pending_of(p), {"req-1", 1000}, error));
    auto item = pending_of(p).items[1];
    item.order_id = "o-2";
    item.outcome = item_outcome::filled;
    item.status = order_status::filled;
    item.filled_qty = decimal::from_integer(3);
    item.filled_avg_price = decimal{10125, 2};
    CAF_REQUIRE(j->update_item("p1", item, error));
  }
  auto j = open();
  auto found = j->find_plan("p1", error);
  CAF_REQUIRE(found.has_value());
  CAF_CHECK_EQUAL(found->content_hash, "hash1");
  CAF_CHECK(found->state == plan_state::running);
  CAF_CHECK_EQUAL(found->spec.correlation_id, "c-p1");
  CAF_REQUIRE_EQUAL(found->result.items.size(), 2u);
  CAF_CHECK(found->result.items[0].outcome == item_outcome::pending);
  CAF_CHECK_EQUAL(found->result.items[0].client_order_id, "ath-p1-0");
  CAF_CHECK_EQUAL(found->result.items[1].order_id, "o-2");
  CAF_CHECK(found->result.items[1].outcome == item_outcome::filled);
  CAF_CHECK_EQUAL(to_string(found->result.items[1].filled_avg_price),
                  "101.25");
  CAF_CHECK_EQUAL(j->running_plans(error).size(), 1u);
  CAF_REQUIRE(j->finish_plan("p1", error));
  CAF_CHECK_EQUAL(j->running_plans(error).size(), 0u);
  CAF_CHECK(j->find_plan("p1", error)->state == plan_state::done);
}

CAF_TEST(a plan id is recorded once) {
  auto j = open();
  auto p = two_items("p1");
  std::string error;
  CAF_REQUIRE(j->record_plan(p, "hash1", pending_of(p), {"req-1", 1000}, error));
  CAF_CHECK(!j->record_plan(p, "hash1", pending_of(p), {"req-1", 1000}, error));
  CAF_CHECK_NOT_EQUAL(error.find("UNIQUE"), std::string::npos);
  // The failed attempt left nothing half written.
  CAF_CHECK_EQUAL(j->find_plan("p1", error)->result.items.size(), 2u);
  CAF_CHECK(!j->find_plan("p2", error).has_value());
}

CAF_TEST(running plans come oldest first) {
  auto j = open();
  std::string error;
  for (auto id : {"b", "a", "c"}) {
    auto p = two_items(id);
    CAF_REQUIRE(j->record_plan(p, "h", pending_of(p), {"req-1", 1000}, error));
  }
  auto running = j->running_plans(error);
  CAF_REQUIRE_EQUAL(running.size(), 3u);
  CAF_CHECK_EQUAL(running[0].spec.plan_id, "b");
  CAF_CHECK_EQUAL(running[2].spec.plan_id, "c");
}

CAF_TEST(acceptance and may_exist survive reopening) {
  auto p = two_items("p1");
  std::string error;
  {
    auto j = open();
    CAF_REQUIRE(
      j->record_plan(p, "hash1", pending_of(p), {"req-7", 1234}, error));
    auto item = pending_of(p).items[0];
    item.order_may_exist = true;
    CAF_REQUIRE(j->update_item("p1", item, error));
  }
  auto found = open()->find_plan("p1", error);
  CAF_REQUIRE(found.has_value());
  CAF_CHECK_EQUAL(found->accepted.origin, "req-7");
  CAF_CHECK_EQUAL(found->accepted.at_ms, 1234);
  CAF_CHECK(found->result.items[0].order_may_exist);
  CAF_CHECK(!found->result.items[1].order_may_exist);
}

CAF_TEST(a finished plan runs again from fresh items but a running one not) {
  auto j = open();
  auto p = two_items("p1");
  std::string error;
  CAF_REQUIRE(j->record_plan(p, "hash1", pending_of(p), {"req-1", 1000}, error));
  CAF_CHECK(!j->restart_plan(p, pending_of(p), {"req-2", 2000}, error));
  CAF_CHECK_NOT_EQUAL(error.find("not a finished plan"), std::string::npos);
  auto ended = pending_of(p).items[0];
  ended.outcome = item_outcome::not_placed;
  ended.reason = "not placed: the trading stream failed";
  CAF_REQUIRE(j->update_item("p1", ended, error));
  CAF_REQUIRE(j->finish_plan("p1", error));
  p.correlation_id = "second";
  CAF_REQUIRE(j->restart_plan(p, pending_of(p), {"req-2", 2000}, error));
  auto found = j->find_plan("p1", error);
  CAF_REQUIRE(found.has_value());
  CAF_CHECK(found->state == plan_state::running);
  CAF_CHECK_EQUAL(found->accepted.origin, "req-2");
  CAF_CHECK_EQUAL(found->accepted.at_ms, 2000);
  CAF_CHECK_EQUAL(found->spec.correlation_id, "second");
  CAF_CHECK_EQUAL(found->content_hash, "hash1");
  CAF_REQUIRE_EQUAL(found->result.items.size(), 2u);
  CAF_CHECK(found->result.items[0].outcome == item_outcome::pending);
  CAF_CHECK_EQUAL(found->result.items[0].reason, "");
}

// A journal written before plans recorded who accepted them and when.
CAF_TEST(a version 1 journal is upgraded and its items count as placed) {
  {
    sqlite3* db = nullptr;
    CAF_REQUIRE_EQUAL(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    auto sql = R"sql(
      CREATE TABLE plans (plan_id TEXT PRIMARY KEY, correlation_id TEXT NOT
        NULL, content_hash TEXT NOT NULL, plan_json TEXT NOT NULL, state TEXT
        NOT NULL, seq INTEGER NOT NULL);
      CREATE TABLE items (plan_id TEXT NOT NULL REFERENCES plans(plan_id),
        idx INTEGER NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
        client_order_id TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL, outcome
        TEXT NOT NULL, status TEXT NOT NULL, filled_qty TEXT NOT NULL,
        filled_avg_price TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY
        (plan_id, idx));
      INSERT INTO plans VALUES ('old', 'c', 'h',
        '{"plan_id":"old","items":[{"symbol":"AAPL","side":"buy","qty":"1"}]}',
        'done', 1);
      INSERT INTO items VALUES ('old', 0, 'AAPL', 'buy', 'ath-old-0', '',
        'not_placed', 'unknown', '', '', 'r');
      PRAGMA user_version = 1;
    )sql";
    CAF_REQUIRE_EQUAL(sqlite3_exec(db, sql, nullptr, nullptr, nullptr),
                      SQLITE_OK);
    sqlite3_close(db);
  }
  auto j = open();
  std::string error;
  auto found = j->find_plan("old", error);
  CAF_REQUIRE(found.has_value());
  CAF_CHECK_EQUAL(found->accepted.origin, "");
  CAF_CHECK_EQUAL(found->accepted.at_ms, 0);
  CAF_REQUIRE_EQUAL(found->result.items.size(), 1u);
  CAF_CHECK(found->result.items[0].order_may_exist);
  auto p = two_items("new");
  CAF_CHECK(j->record_plan(p, "h2", pending_of(p), {"req-1", 5}, error));
}

CAF_TEST(an unwritable path is an error naming it) {
  std::string error;
  auto j = journal::open({"/nonexistent-dir/j.db", true}, error);
  CAF_CHECK(j == nullptr);
  CAF_CHECK_NOT_EQUAL(error.find("/nonexistent-dir/j.db"), std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()

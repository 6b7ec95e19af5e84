#define CAF_SUITE unit.journal
#include "journal/journal.hpp"

#include "caf/test/unit_test.hpp"

#include <cstdio>
#include <unistd.h>

#include "protocol/plan.hpp"

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
    CAF_REQUIRE(j->record_plan(p, "hash1", pending_of(p), error));
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
  CAF_REQUIRE(j->record_plan(p, "hash1", pending_of(p), error));
  CAF_CHECK(!j->record_plan(p, "hash1", pending_of(p), error));
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
    CAF_REQUIRE(j->record_plan(p, "h", pending_of(p), error));
  }
  auto running = j->running_plans(error);
  CAF_REQUIRE_EQUAL(running.size(), 3u);
  CAF_CHECK_EQUAL(running[0].spec.plan_id, "b");
  CAF_CHECK_EQUAL(running[2].spec.plan_id, "c");
}

CAF_TEST(an unwritable path is an error naming it) {
  std::string error;
  auto j = journal::open({"/nonexistent-dir/j.db", true}, error);
  CAF_CHECK(j == nullptr);
  CAF_CHECK_NOT_EQUAL(error.find("/nonexistent-dir/j.db"), std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()

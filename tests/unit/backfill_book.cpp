#define CAF_SUITE unit.backfill_book
#include "actors/market/backfill_book.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;

namespace {

constexpr timestamp_ns s = 1'000'000'000;

batch live(uint64_t epoch, timestamp_ns at, std::vector<int64_t> ids,
           std::string symbol = "AAPL") {
  batch b;
  b.epoch = epoch;
  b.received_at = at;
  for (auto id : ids) {
    trade t;
    t.symbol = symbol;
    t.id = id;
    t.time = at - 1;
    b.trades.push_back(t);
  }
  return b;
}

std::vector<int64_t> ids_of(const batch& b) {
  std::vector<int64_t> result;
  for (auto& t : b.trades)
    result.push_back(t.id);
  return result;
}

} // namespace

CAF_TEST(a gap is fetched from before it to after the resume) {
  backfill_book book{2 * s};
  CAF_CHECK(!book.on_live(live(1, 10 * s, {1, 2})));
  book.on_gap(10 * s, 1);
  // More of the old connection (late) does not resume it.
  CAF_CHECK(!book.on_live(live(1, 10 * s, {3})));
  auto range = book.on_live(live(2, 14 * s, {9}));
  CAF_REQUIRE(range);
  CAF_CHECK_EQUAL(range->from, 8 * s);
  CAF_CHECK_EQUAL(range->to, 16 * s);
  CAF_CHECK(book.fetching());
}

CAF_TEST(what the live stream delivered is dropped from the fetch) {
  backfill_book book{2 * s};
  book.on_live(live(1, 10 * s, {1, 2}));
  book.on_gap(10 * s, 1);
  book.on_live(live(2, 14 * s, {7, 8}));
  // Delivered while the fetch runs: kept for the dedup too.
  book.on_live(live(2, 15 * s, {9}));
  auto fetched = live(0, 0, {2, 3, 4, 5, 6, 7, 8, 9});
  auto fresh = book.fresh(fetched);
  CAF_CHECK(fresh.backfill);
  CAF_CHECK_EQUAL(ids_of(fresh), (std::vector<int64_t>{3, 4, 5, 6}));
  // A second repair of the same range delivers nothing twice.
  CAF_CHECK(ids_of(book.fresh(fetched)).empty());
  // Ids are per symbol.
  CAF_CHECK_EQUAL(ids_of(book.fresh(live(0, 0, {2}, "MSFT"))),
                  (std::vector<int64_t>{2}));
}

CAF_TEST(a gap during a repair is repaired after it) {
  backfill_book book{2 * s};
  book.on_gap(10 * s, 1);
  CAF_REQUIRE(book.on_live(live(2, 14 * s, {1})));
  book.on_gap(20 * s, 2);
  book.on_live(live(3, 25 * s, {2}));
  auto next = book.done();
  CAF_REQUIRE(next);
  CAF_CHECK_EQUAL(next->from, 18 * s);
  CAF_CHECK_EQUAL(next->to, 27 * s);
  CAF_CHECK(!book.done());
  CAF_CHECK(!book.fetching());
  // A gap that has not resumed when the repair ends waits for its resume.
  book.on_gap(30 * s, 3);
  CAF_REQUIRE(book.on_live(live(4, 31 * s, {3})));
  book.on_gap(40 * s, 4);
  CAF_CHECK(!book.done());
  CAF_CHECK(book.on_live(live(5, 41 * s, {4})));
}

CAF_TEST(keys older than the overlap are let go while idle) {
  backfill_book book{1 * s};
  for (int64_t i = 0; i < 100; ++i)
    book.on_live(live(1, (10 + i) * s, {i}));
  // About two overlaps' worth is kept, not all of it.
  CAF_CHECK_LESS_OR_EQUAL(book.keys(), 4u);
  book.on_gap(200 * s, 1);
  for (int64_t i = 0; i < 50; ++i)
    book.on_live(live(1, (200 + i) * s, {1000 + i}));
  // Waiting for a resume, everything since the gap is kept.
  CAF_CHECK_GREATER_OR_EQUAL(book.keys(), 50u);
}

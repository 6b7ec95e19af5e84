#define CAF_SUITE unit.topic_table
#include "actors/market/topic_table.hpp"

#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <random>

using namespace athanor;

namespace {

topic t(channel kind, std::string symbol) {
  return topic{kind, std::move(symbol)};
}

batch sample() {
  batch b;
  b.received_at = 7;
  b.epoch = 3;
  for (auto symbol : {"AAPL", "MSFT", "TSLA"}) {
    quote q;
    q.symbol = symbol;
    b.quotes.push_back(q);
    trade x;
    x.symbol = symbol;
    b.trades.push_back(x);
  }
  correction c;
  c.symbol = "AAPL";
  b.corrections.push_back(c);
  bar minute;
  minute.symbol = "AAPL";
  b.bars.push_back(minute);
  bar daily = minute;
  daily.kind = bar_kind::daily;
  b.bars.push_back(daily);
  return b;
}

const batch* part_for(const topic_table::routing& r, topic_table::slot s) {
  for (auto& [slot, part] : r.parts)
    if (slot == s)
      return &part;
  return nullptr;
}

} // namespace

CAF_TEST(reference counts decide when the desired set changes) {
  topic_table table;
  CAF_CHECK(table.add(1, {t(channel::quotes, "AAPL")}));
  CAF_CHECK(!table.add(2, {t(channel::quotes, "AAPL")}));
  CAF_CHECK_EQUAL(table.ref_count(t(channel::quotes, "AAPL")), 2u);
  CAF_CHECK(!table.remove(1, {t(channel::quotes, "AAPL")}));
  CAF_CHECK(table.remove(2, {t(channel::quotes, "AAPL")}));
  CAF_CHECK_EQUAL(table.ref_count(t(channel::quotes, "AAPL")), 0u);
  CAF_CHECK(table.desired().empty());
}

CAF_TEST(any order of any symbols is held sorted and once) {
  // Symbols sharing their first eight bytes, shorter and longer ones, the
  // wildcard and repeats, on several channels, in a shuffled order.
  std::vector<std::string> symbols{"ABCDEFGH", "ABCDEFGHI", "ABCDEFGHA",
                                   "ABCDEFG",  "ABCDEFGHIJKLMNOPQ",
                                   "ABCDEFGHIJ", "*", "B", "A", "AA", "Z9",
                                   "BRK.B", "BTC/USD", "ABCDEFGH"};
  std::vector<topic> topics;
  for (auto ch : {channel::quotes, channel::trades, channel::bars})
    for (auto& x : symbols)
      topics.push_back(t(ch, x));
  std::mt19937 rng{7};
  for (int round = 0; round < 20; ++round) {
    std::shuffle(topics.begin(), topics.end(), rng);
    topic_table table;
    table.add(1, topics);
    auto expected = topics;
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()),
                   expected.end());
    CAF_CHECK_EQUAL(table.topics_of(1), expected);
    // Removing them in another order leaves nothing.
    std::shuffle(topics.begin(), topics.end(), rng);
    table.remove(1, topics);
    CAF_CHECK(table.topics_of(1).empty());
  }
}

CAF_TEST(counts never go negative) {
  topic_table table;
  table.add(1, {t(channel::trades, "AAPL")});
  CAF_CHECK(!table.add(1, {t(channel::trades, "AAPL")}));
  CAF_CHECK_EQUAL(table.ref_count(t(channel::trades, "AAPL")), 1u);
  CAF_CHECK(table.remove(1, {t(channel::trades, "AAPL")}));
  CAF_CHECK(!table.remove(1, {t(channel::trades, "AAPL")}));
  CAF_CHECK(!table.remove(9, {t(channel::trades, "AAPL")}));
  CAF_CHECK_EQUAL(table.ref_count(t(channel::trades, "AAPL")), 0u);
}

CAF_TEST(the desired set is the sorted union with wildcards) {
  topic_table table;
  table.add(1, {t(channel::quotes, "MSFT"), t(channel::quotes, "AAPL")});
  table.add(2, {t(channel::trades, "*"), t(channel::quotes, "AAPL")});
  auto desired = table.desired();
  CAF_CHECK_EQUAL(desired[channel::quotes],
                  (std::vector<std::string>{"AAPL", "MSFT"}));
  CAF_CHECK_EQUAL(desired[channel::trades], (std::vector<std::string>{"*"}));
  CAF_CHECK(table.remove_all(2));
  CAF_CHECK(table.desired()[channel::trades].empty());
  CAF_CHECK_EQUAL(table.topics_of(1).size(), 2u);
  CAF_CHECK(table.topics_of(2).empty());
}

// The desired set is kept by merging each change's gains and losses; after
// any sequence of changes it must equal the union rebuilt from scratch.
CAF_TEST(the kept desired set always equals the rebuilt union) {
  topic_table table;
  std::mt19937 rng{42};
  const char* symbols[] = {"*", "AAPL", "BRK.B", "MSFT", "SPY", "Z"};
  channel channels[] = {channel::trades, channel::quotes, channel::bars};
  auto random_topics = [&] {
    std::vector<topic> xs;
    auto n = rng() % 5;
    for (size_t i = 0; i < n; ++i)
      xs.push_back(t(channels[rng() % 3], symbols[rng() % 6]));
    return xs;
  };
  for (int step = 0; step < 2000; ++step) {
    topic_table::slot s = rng() % 4;
    switch (rng() % 3) {
      case 0: table.add(s, random_topics()); break;
      case 1: table.remove(s, random_topics()); break;
      default:
        if (rng() % 8 == 0)
          table.remove_all(s);
    }
    subscription_set rebuilt;
    for (topic_table::slot x = 0; x < 4; ++x)
      for (auto& topic : table.topics_of(x))
        rebuilt[topic.kind].push_back(topic.symbol);
    for (auto ch : channels) {
      auto& xs = rebuilt[ch];
      std::sort(xs.begin(), xs.end());
      xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    }
    if (!(table.desired() == rebuilt))
      CAF_FAIL("desired set diverged at step " << step);
  }
}

CAF_TEST(routing gives each subscriber only its records) {
  topic_table table;
  table.add(1, {t(channel::quotes, "AAPL")});
  table.add(2, {t(channel::trades, "MSFT"), t(channel::quotes, "MSFT")});
  table.add(3, {t(channel::trades, "AAPL")});
  table.add(4, {t(channel::daily_bars, "AAPL")});
  table.add(5, {t(channel::quotes, "NONE")});
  topic_table::routing r;
  table.route(sample(), r);
  CAF_CHECK(r.whole.empty());
  CAF_CHECK_EQUAL(r.parts.size(), 4u);
  auto* one = part_for(r, 1);
  CAF_REQUIRE(one != nullptr);
  CAF_CHECK_EQUAL(one->size(), 1u);
  CAF_CHECK_EQUAL(one->quotes[0].symbol, "AAPL");
  CAF_CHECK_EQUAL(one->received_at, 7);
  CAF_CHECK_EQUAL(one->epoch, 3u);
  auto* two = part_for(r, 2);
  CAF_REQUIRE(two != nullptr);
  CAF_CHECK_EQUAL(two->trades.size(), 1u);
  CAF_CHECK_EQUAL(two->quotes.size(), 1u);
  // Corrections come with the symbol's trades.
  auto* three = part_for(r, 3);
  CAF_REQUIRE(three != nullptr);
  CAF_CHECK_EQUAL(three->trades.size(), 1u);
  CAF_CHECK_EQUAL(three->corrections.size(), 1u);
  auto* four = part_for(r, 4);
  CAF_REQUIRE(four != nullptr);
  CAF_REQUIRE_EQUAL(four->bars.size(), 1u);
  CAF_CHECK_EQUAL(four->bars[0].kind, bar_kind::daily);
  CAF_CHECK(part_for(r, 5) == nullptr);
}

CAF_TEST(wildcards covering a batch share it whole) {
  topic_table table;
  table.add(1, {t(channel::quotes, "*"), t(channel::trades, "*"),
                t(channel::bars, "*"), t(channel::daily_bars, "*")});
  table.add(2, {t(channel::quotes, "*"), t(channel::quotes, "AAPL")});
  topic_table::routing r;
  table.route(sample(), r);
  CAF_CHECK_EQUAL(r.whole, (std::vector<topic_table::slot>{1}));
  auto* two = part_for(r, 2);
  CAF_REQUIRE(two != nullptr);
  // A wildcard and a symbol of the same channel deliver each record once.
  CAF_CHECK_EQUAL(two->quotes.size(), 3u);
  CAF_CHECK_EQUAL(two->size(), 3u);
  CAF_CHECK(part_for(r, 1) == nullptr);
}

CAF_TEST(removing the last topics in slices empties a subscriber) {
  topic_table table;
  std::vector<topic> mine;
  for (auto symbol : {"A", "B", "C", "D", "E"})
    mine.push_back(t(channel::trades, symbol));
  table.add(1, mine);
  table.add(2, {t(channel::trades, "B"), t(channel::trades, "E")});
  // E is still held by 2: only D leaves the desired set.
  CAF_CHECK(table.remove_last(1, 2));
  CAF_CHECK_EQUAL(table.topics_of(1),
                  (std::vector<topic>{t(channel::trades, "A"),
                                      t(channel::trades, "B"),
                                      t(channel::trades, "C")}));
  CAF_CHECK_EQUAL(table.desired()[channel::trades],
                  (std::vector<std::string>{"A", "B", "C", "E"}));
  CAF_CHECK(table.remove_last(1, 10));
  CAF_CHECK(table.topics_of(1).empty());
  CAF_CHECK(!table.remove_last(1, 10));
  CAF_CHECK_EQUAL(table.desired()[channel::trades],
                  (std::vector<std::string>{"B", "E"}));
}

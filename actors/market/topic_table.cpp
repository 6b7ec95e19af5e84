#include "actors/market/topic_table.hpp"

#include <algorithm>

namespace athanor {

namespace {

uint32_t bit(channel x) {
  return 1u << static_cast<uint32_t>(x);
}

size_t index(channel x) {
  return static_cast<size_t>(x);
}

channel channel_of(const bar& x) {
  switch (x.kind) {
    case bar_kind::minute: return channel::bars;
    case bar_kind::updated: return channel::updated_bars;
    case bar_kind::daily: return channel::daily_bars;
  }
  return channel::bars;
}

// Channels whose records a batch holds.
uint32_t present_channels(const batch& data) {
  uint32_t result = 0;
  if (!data.trades.empty() || !data.corrections.empty()
      || !data.cancel_errors.empty())
    result |= bit(channel::trades);
  if (!data.quotes.empty())
    result |= bit(channel::quotes);
  for (auto& x : data.bars)
    result |= bit(channel_of(x));
  if (!data.statuses.empty())
    result |= bit(channel::statuses);
  if (!data.lulds.empty())
    result |= bit(channel::lulds);
  if (!data.imbalances.empty())
    result |= bit(channel::imbalances);
  if (!data.orderbooks.empty())
    result |= bit(channel::orderbooks);
  return result;
}

void erase_slot(std::vector<topic_table::slot>& xs, topic_table::slot s) {
  xs.erase(std::remove(xs.begin(), xs.end(), s), xs.end());
}

// The order of topics (channel, then symbol), inline: the sort below runs
// it hundreds of thousands of times.
bool before(const topic& x, const topic& y) {
  return x.kind != y.kind ? x.kind < y.kind : x.symbol < y.symbol;
}

// A symbol's first eight bytes as a number that orders like the bytes
// (shorter ones padded with zeros, which sort first, as a prefix does).
uint64_t prefix_of(const std::string& x) {
  uint64_t result = 0;
  for (size_t i = 0; i < 8; ++i)
    result = (result << 8)
             | (i < x.size() ? static_cast<unsigned char>(x[i]) : 0u);
  return result;
}

// Returns `topics` sorted and without repeats. Adding or removing k topics
// among a subscriber's n then costs one pass over both (O(n + k log k)),
// never a vector insert or erase per topic (O(k * n): 400 k topics took
// 44 s to remove that way). The sort compares channel and an eight-byte
// prefix as integers and the strings only on a tie (tickers are short):
// comparing strings was most of the cost of a 30 k-topic subscribe.
std::vector<topic> sorted_unique(const std::vector<topic>& topics) {
  std::vector<topic> result;
  // Clients often send their lists in order already: one pass then.
  if (std::is_sorted(topics.begin(), topics.end(), before)) {
    result = topics;
  } else {
    struct entry {
      uint64_t prefix;
      uint32_t index;
      channel kind;
    };
    std::vector<entry> order;
    order.reserve(topics.size());
    for (uint32_t i = 0; i < topics.size(); ++i)
      order.push_back({prefix_of(topics[i].symbol), i, topics[i].kind});
    std::sort(order.begin(), order.end(),
              [&topics](const entry& x, const entry& y) {
                if (x.kind != y.kind)
                  return x.kind < y.kind;
                if (x.prefix != y.prefix)
                  return x.prefix < y.prefix;
                // Equal prefixes of symbols of at most eight bytes are
                // equal symbols; longer ones need the rest.
                auto& a = topics[x.index].symbol;
                auto& b = topics[y.index].symbol;
                return (a.size() > 8 || b.size() > 8) && a < b;
              });
    result.reserve(topics.size());
    for (auto& x : order)
      result.push_back(topics[x.index]);
  }
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

// Grows `xs` to hold `n` at least twofold, so that many small merges into
// a big vector copy it O(log) times, not once each.
template <class T>
void make_room(std::vector<T>& xs, size_t n) {
  if (xs.capacity() < n)
    xs.reserve(std::max(n, 2 * xs.capacity()));
}

// Merges sorted `fresh` (none of it in `into`) into sorted `into`, moving
// only the elements after the first fresh one: O(k + tail), so a change
// that arrives in ascending slices appends.
template <class T, class Less>
void merge_into(std::vector<T>& into, std::vector<T>& fresh, Less less) {
  if (fresh.empty())
    return;
  auto pos = static_cast<size_t>(
    std::lower_bound(into.begin(), into.end(), fresh.front(), less)
    - into.begin());
  std::vector<T> tail(std::make_move_iterator(into.begin() + pos),
                      std::make_move_iterator(into.end()));
  into.resize(pos);
  make_room(into, pos + tail.size() + fresh.size());
  std::merge(std::make_move_iterator(tail.begin()),
             std::make_move_iterator(tail.end()),
             std::make_move_iterator(fresh.begin()),
             std::make_move_iterator(fresh.end()), std::back_inserter(into),
             less);
}

} // namespace

std::vector<topic> topic_table::normalized(const std::vector<topic>& topics) {
  return sorted_unique(topics);
}

topic_table::subscriber* topic_table::find(slot s) {
  auto i = subscribers_.find(s);
  return i == subscribers_.end() ? nullptr : &i->second;
}

bool topic_table::hold(slot s, subscriber& sub, const topic& t) {
  if (t.symbol == "*") {
    sub.wildcards |= bit(t.kind);
    auto& holders = wildcard_[index(t.kind)];
    holders.push_back(s);
    return holders.size() == 1;
  }
  auto& holders = by_symbol_[index(t.kind)][t.symbol];
  holders.push_back(s);
  return holders.size() == 1;
}

bool topic_table::let_go(slot s, subscriber& sub, const topic& t) {
  if (t.symbol == "*") {
    sub.wildcards &= ~bit(t.kind);
    auto& holders = wildcard_[index(t.kind)];
    erase_slot(holders, s);
    return holders.empty();
  }
  auto& table = by_symbol_[index(t.kind)];
  auto i = table.find(t.symbol);
  erase_slot(i->second, s);
  if (!i->second.empty())
    return false;
  table.erase(i);
  return true;
}

bool topic_table::add(slot s, const std::vector<topic>& topics) {
  auto& sub = subscribers_[s];
  auto wanted = sorted_unique(topics);
  std::vector<topic> fresh;
  if (sub.topics.empty() || wanted.empty()) {
    fresh = std::move(wanted); // a new subscriber: all of it is fresh
  } else {
    // Only the held topics within the change's range can repeat it.
    auto lo = std::lower_bound(sub.topics.begin(), sub.topics.end(),
                               wanted.front(), before);
    auto hi = std::upper_bound(lo, sub.topics.end(), wanted.back(), before);
    std::set_difference(wanted.begin(), wanted.end(), lo, hi,
                        std::back_inserter(fresh), before);
  }
  // One rehash per channel, not one per doubling while 400 k arrive; and
  // growing at least twofold, so that a change applied in slices does not
  // rehash the whole table per slice.
  size_t per_channel[channel_count] = {};
  for (auto& t : fresh)
    ++per_channel[index(t.kind)];
  for (size_t ch = 0; ch < channel_count; ++ch) {
    auto& table = by_symbol_[ch];
    auto needed = table.size() + per_channel[ch];
    if (per_channel[ch] > 0
        && needed > table.bucket_count() * table.max_load_factor())
      table.reserve(std::max(needed, 2 * table.size()));
  }
  std::vector<topic> gained;
  for (auto& t : fresh)
    if (hold(s, sub, t))
      gained.push_back(t);
  desire(gained);
  merge_into(sub.topics, fresh, before);
  if (sub.topics.empty())
    subscribers_.erase(s);
  return !gained.empty();
}

bool topic_table::remove(slot s, const std::vector<topic>& topics) {
  auto* sub = find(s);
  if (sub == nullptr)
    return false;
  auto unwanted = sorted_unique(topics);
  if (unwanted.empty())
    return false;
  // Only the held topics within the change's range move: a change that
  // arrives in descending slices erases at the end.
  auto& held = sub->topics;
  auto lo = std::lower_bound(held.begin(), held.end(), unwanted.front(),
                             before);
  auto hi = std::upper_bound(lo, held.end(), unwanted.back(), before);
  std::vector<topic> lost;
  auto u = unwanted.begin();
  auto out = lo;
  for (auto i = lo; i != hi; ++i) {
    while (u != unwanted.end() && before(*u, *i))
      ++u;
    if (u != unwanted.end() && *u == *i) {
      if (let_go(s, *sub, *i))
        lost.push_back(std::move(*i));
    } else {
      if (out != i)
        *out = std::move(*i);
      ++out;
    }
  }
  held.erase(out, hi);
  if (sub->topics.empty())
    subscribers_.erase(s);
  forgo(lost);
  return !lost.empty();
}

bool topic_table::remove_all(slot s) {
  auto* sub = find(s);
  if (sub == nullptr)
    return false;
  std::vector<topic> lost;
  for (auto& t : sub->topics)
    if (let_go(s, *sub, t))
      lost.push_back(t);
  subscribers_.erase(s);
  forgo(lost);
  return !lost.empty();
}

// Both touch each channel's sorted symbols only from the first changed
// one on: O(k + tail), appending or erasing at the end for changes that
// arrive in slices (ascending adds, descending removals).
void topic_table::desire(const std::vector<topic>& gained) {
  for (auto i = gained.begin(); i != gained.end();) {
    auto kind = i->kind;
    std::vector<std::string> fresh;
    for (; i != gained.end() && i->kind == kind; ++i)
      fresh.push_back(i->symbol);
    merge_into(desired_[kind], fresh, std::less<std::string>{});
  }
}

void topic_table::forgo(const std::vector<topic>& lost) {
  for (auto i = lost.begin(); i != lost.end();) {
    auto kind = i->kind;
    auto first = i;
    while (i != lost.end() && i->kind == kind)
      ++i;
    auto& symbols = desired_[kind];
    auto lo = std::lower_bound(symbols.begin(), symbols.end(), first->symbol);
    auto gone = first;
    auto out = lo;
    for (auto j = lo; j != symbols.end(); ++j) {
      while (gone != i && gone->symbol < *j)
        ++gone;
      if (gone != i && gone->symbol == *j)
        continue;
      if (out != j)
        *out = std::move(*j);
      ++out;
    }
    symbols.erase(out, symbols.end());
  }
}

bool topic_table::remove_last(slot s, size_t n) {
  auto* sub = find(s);
  if (sub == nullptr)
    return false;
  auto first = sub->topics.size() - std::min(n, sub->topics.size());
  std::vector<topic> lost;
  for (auto i = first; i < sub->topics.size(); ++i)
    if (let_go(s, *sub, sub->topics[i]))
      lost.push_back(std::move(sub->topics[i]));
  sub->topics.resize(first);
  if (sub->topics.empty())
    subscribers_.erase(s);
  forgo(lost);
  return !lost.empty();
}

std::vector<topic> topic_table::topics_of(slot s) const {
  auto i = subscribers_.find(s);
  return i == subscribers_.end() ? std::vector<topic>{} : i->second.topics;
}

const std::vector<topic>& topic_table::topics_held(slot s) const {
  static const std::vector<topic> none;
  auto i = subscribers_.find(s);
  return i == subscribers_.end() ? none : i->second.topics;
}

size_t topic_table::ref_count(const topic& x) const {
  if (x.symbol == "*")
    return wildcard_[index(x.kind)].size();
  auto& table = by_symbol_[index(x.kind)];
  auto i = table.find(x.symbol);
  return i == table.end() ? 0 : i->second.size();
}

batch& topic_table::part_of(slot s, routing& out, const batch& data) {
  auto& sub = subscribers_[s];
  if (sub.routed_for != round_) {
    sub.routed_for = round_;
    sub.part = out.parts.size();
    out.parts.emplace_back(s, batch{});
    auto& fresh = out.parts.back().second;
    fresh.received_at = data.received_at;
    fresh.epoch = data.epoch;
  }
  return out.parts[sub.part].second;
}

template <class Record>
void topic_table::route_records(const std::vector<Record>& records,
                                std::vector<Record> batch::*member,
                                channel kind, routing& out,
                                const batch& data) {
  if (records.empty())
    return;
  auto& wildcard = partial_wildcard_[index(kind)];
  auto& table = by_symbol_[index(kind)];
  if (wildcard.empty() && table.empty())
    return;
  for (auto& record : records) {
    for (auto s : wildcard)
      (part_of(s, out, data).*member).push_back(record);
    auto i = table.find(record.symbol);
    if (i == table.end())
      continue;
    for (auto s : i->second) {
      auto& sub = subscribers_[s];
      // Wildcard holders got it above.
      if (sub.whole || (sub.wildcards & bit(kind)) != 0)
        continue;
      (part_of(s, out, data).*member).push_back(record);
    }
  }
}

void topic_table::route(const batch& data, routing& out) {
  ++round_;
  out.clear();
  auto present = present_channels(data);
  if (present == 0)
    return;
  for (auto& [s, sub] : subscribers_) {
    sub.whole = (present & ~sub.wildcards) == 0;
    if (sub.whole)
      out.whole.push_back(s);
  }
  for (auto ch : all_channels) {
    auto& partial = partial_wildcard_[index(ch)];
    partial.clear();
    for (auto s : wildcard_[index(ch)])
      if (!subscribers_[s].whole)
        partial.push_back(s);
  }
  route_records(data.trades, &batch::trades, channel::trades, out, data);
  route_records(data.quotes, &batch::quotes, channel::quotes, out, data);
  route_records(data.corrections, &batch::corrections, channel::trades, out,
                data);
  route_records(data.cancel_errors, &batch::cancel_errors, channel::trades,
                out, data);
  route_records(data.statuses, &batch::statuses, channel::statuses, out, data);
  route_records(data.lulds, &batch::lulds, channel::lulds, out, data);
  route_records(data.imbalances, &batch::imbalances, channel::imbalances, out,
                data);
  route_records(data.orderbooks, &batch::orderbooks, channel::orderbooks, out,
                data);
  if (!data.bars.empty()) {
    // Bars of one batch may be of several kinds: route one kind at a time.
    std::vector<bar> of_kind;
    for (auto kind : {channel::bars, channel::updated_bars,
                      channel::daily_bars}) {
      of_kind.clear();
      for (auto& x : data.bars)
        if (channel_of(x) == kind)
          of_kind.push_back(x);
      route_records(of_kind, &batch::bars, kind, out, data);
    }
  }
  for (auto& [s, sub] : subscribers_)
    sub.whole = false;
}

} // namespace athanor

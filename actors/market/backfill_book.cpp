#include "actors/market/backfill_book.hpp"

#include <algorithm>

namespace athanor {

namespace {

// FNV-1a over the symbol, mixed with the number and the kind.
uint64_t key_of(char kind, const std::string& symbol, int64_t number) {
  uint64_t h = 0xcbf29ce484222325ULL ^ static_cast<uint8_t>(kind);
  for (auto c : symbol)
    h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  auto x = static_cast<uint64_t>(number) + 0x9e3779b97f4a7c15ULL + (h << 6)
           + (h >> 2);
  // splitmix64's finalizer spreads the number over every bit.
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return h ^ x ^ (x >> 31);
}

uint64_t trade_key(const trade& x) {
  return key_of('t', x.symbol, x.id);
}

uint64_t bar_key(const bar& x) {
  return key_of('b', x.symbol, x.time);
}

} // namespace

void backfill_book::on_gap(timestamp_ns since, uint64_t epoch) {
  if (state_ == state::idle) {
    state_ = state::waiting;
    current_ = pending{since, epoch, std::nullopt};
    return;
  }
  if (state_ == state::waiting)
    return; // the same outage, seen twice: the range ends at the resume
  if (!next_)
    next_ = pending{since, epoch, std::nullopt};
}

std::optional<backfill_book::range> backfill_book::on_live(const batch& x) {
  newest_ = std::max(newest_, x.received_at);
  for (auto& t : x.trades)
    remember(trade_key(t), x.received_at);
  for (auto& b : x.bars)
    if (b.kind == bar_kind::minute)
      remember(bar_key(b), x.received_at);
  if (next_ && !next_->resumed && x.epoch != next_->epoch)
    next_->resumed = x.received_at;
  if (state_ == state::waiting && x.epoch != current_.epoch) {
    current_.resumed = x.received_at;
    state_ = state::fetching;
    return range_of(current_);
  }
  prune();
  return std::nullopt;
}

batch backfill_book::fresh(batch fetched) {
  batch result;
  result.backfill = true;
  for (auto& t : fetched.trades)
    if (remember(trade_key(t), newest_))
      result.trades.push_back(std::move(t));
  for (auto& b : fetched.bars)
    if (remember(bar_key(b), newest_))
      result.bars.push_back(std::move(b));
  auto by_time = [](auto& x, auto& y) { return x.time < y.time; };
  std::stable_sort(result.trades.begin(), result.trades.end(), by_time);
  std::stable_sort(result.bars.begin(), result.bars.end(), by_time);
  return result;
}

std::optional<backfill_book::range> backfill_book::done() {
  state_ = state::idle;
  if (!next_) {
    prune();
    return std::nullopt;
  }
  current_ = *next_;
  next_.reset();
  if (!current_.resumed) {
    state_ = state::waiting;
    return std::nullopt;
  }
  state_ = state::fetching;
  return range_of(current_);
}

bool backfill_book::remember(uint64_t key, timestamp_ns at) {
  auto added = keys_.insert(key).second;
  if (added)
    log_.emplace_back(at, key);
  return added;
}

// While idle only the last `overlap` is kept; a gap keeps everything from
// its range's start until its repair is done.
void backfill_book::prune() {
  auto keep_from = newest_ - 2 * overlap_;
  if (state_ != state::idle)
    keep_from = std::min(keep_from, current_.since - 2 * overlap_);
  while (!log_.empty() && log_.front().first < keep_from) {
    keys_.erase(log_.front().second);
    log_.pop_front();
  }
}

backfill_book::range backfill_book::range_of(const pending& x) const {
  return {x.since - overlap_, x.resumed.value_or(newest_) + overlap_};
}

} // namespace athanor

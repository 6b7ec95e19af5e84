#include "actors/market/backfill_book.hpp"

#include <algorithm>

namespace athanor {

namespace {

std::string trade_key(const trade& x) {
  return "t|" + x.symbol + "|" + std::to_string(x.id);
}

std::string bar_key(const bar& x) {
  return "b|" + x.symbol + "|" + std::to_string(x.time);
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

bool backfill_book::remember(std::string key, timestamp_ns at) {
  auto [_, added] = keys_.insert(key);
  if (added)
    log_.emplace_back(at, std::move(key));
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

#pragma once

// A registry's bookkeeping for gap repair (backfill), as a plain class: the
// repair under way, and the keys of the trades and minute bars it delivered
// lately, so what the REST API returns for a gap loses what the live stream
// delivered already (the engine deduplicates; its subscribers need not).
//
// A repair fetches [since - overlap, resume + overlap]: `since` is the last
// receive time before the gap, `resume` the receive time of the first batch
// of the next connection. The overlap catches records in flight when the
// connection ended and records that were late on the new one; the keys
// delivered around both ends are what makes the overlap safe.

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_set>
#include <utility>

#include "messages/market.hpp"

namespace athanor {

class backfill_book {
 public:
  /// A time range to fetch, ns since the Unix epoch (inclusive).
  struct range {
    timestamp_ns from = 0;
    timestamp_ns to = 0;
  };

  explicit backfill_book(timestamp_ns overlap) : overlap_(overlap) {}

  /// A gap to repair: connection `epoch` ended; the last record before it
  /// was received at `since`. A gap while a repair runs waits for it.
  void on_gap(timestamp_ns since, uint64_t epoch);

  /// A live batch was delivered. Returns the range to fetch when it is the
  /// first of a new connection after a gap waiting for one.
  std::optional<range> on_live(const batch& x);

  /// What of `fetched` was not delivered live (nor by an earlier repair);
  /// it counts as delivered from now on.
  batch fresh(batch fetched);

  /// The repair ended (delivered or failed). Returns the next range when a
  /// gap came meanwhile and its connection has resumed already.
  std::optional<range> done();

  /// A repair is being fetched.
  bool fetching() const {
    return state_ == state::fetching;
  }

  /// Keys held for deduplication.
  size_t keys() const {
    return keys_.size();
  }

 private:
  enum class state { idle, waiting, fetching };

  struct pending {
    timestamp_ns since = 0;
    uint64_t epoch = 0;
    std::optional<timestamp_ns> resumed;
  };

  // A record's key is a 64-bit hash of (kind, symbol, id or time): no
  // allocation per record on the registry's path; two records sharing one
  // by chance (about 1 in 10^7 with a million keys held) would lose one.
  bool remember(uint64_t key, timestamp_ns at);
  void prune();
  range range_of(const pending& x) const;

  timestamp_ns overlap_;
  state state_ = state::idle;
  pending current_;
  std::optional<pending> next_;
  timestamp_ns newest_ = 0;
  std::deque<std::pair<timestamp_ns, uint64_t>> log_;
  std::unordered_set<uint64_t> keys_;
};

} // namespace athanor

#pragma once

// Who wants what: topics (channel x symbol, "*" for every symbol) per
// subscriber slot, reference counts per topic, the union as the desired
// subscription set, and the routing of one batch into per-subscriber
// batches. A plain class; the subscriber registry is its actor shell.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/market.hpp"
#include "messages/stream.hpp"

namespace athanor {

class topic_table {
 public:
  /// A subscriber's dense index, chosen by the caller.
  using slot = uint32_t;

  /// What one batch means for the subscribers.
  struct routing {
    /// Slots that want every record of the batch: they can share it.
    std::vector<slot> whole;
    /// Slots that want some records, each with exactly those.
    std::vector<std::pair<slot, batch>> parts;

    void clear() {
      whole.clear();
      parts.clear();
    }
  };

  /// Returns `topics` sorted (channel, then symbol) without repeats: a
  /// change split into slices of this costs O(k + tail) per slice.
  static std::vector<topic> normalized(const std::vector<topic>& topics);

  /// Adds topics for `s`. Returns whether the desired set changed.
  bool add(slot s, const std::vector<topic>& topics);

  /// Removes topics of `s`. Returns whether the desired set changed.
  bool remove(slot s, const std::vector<topic>& topics);

  /// Removes every topic of `s`. Returns whether the desired set changed.
  bool remove_all(slot s);

  /// Removes up to `n` of the topics of `s` (its last, so nothing moves).
  /// Returns whether the desired set changed.
  bool remove_last(slot s, size_t n);

  /// Returns the topics of `s`, sorted.
  std::vector<topic> topics_of(slot s) const;

  /// The same without a copy; valid until the next change of `s`.
  const std::vector<topic>& topics_held(slot s) const;

  /// Returns how many subscribers hold `x`.
  size_t ref_count(const topic& x) const;

  /// Returns the union of all subscribers' topics, each channel's symbols
  /// sorted ("*" first). Kept up to date by every change (merging what the
  /// change gained or lost), never rebuilt: O(N) to copy out, not
  /// O(N log N) per change.
  const subscription_set& desired() const {
    return desired_;
  }

  /// Splits `data` by subscriber. Corrections and cancel errors go to the
  /// subscribers of the symbol's trades; bars by kind to bars, updated_bars
  /// or daily_bars.
  void route(const batch& data, routing& out);

 private:
  static constexpr size_t channel_count = std::size(all_channels);

  struct subscriber {
    std::vector<topic> topics;
    /// Bit per channel subscribed with "*".
    uint32_t wildcards = 0;
    /// Index into routing::parts for the batch being routed, valid while
    /// `routed_for` equals the current routing round.
    size_t part = 0;
    uint64_t routed_for = 0;
    bool whole = false;
  };

  template <class Record>
  void route_records(const std::vector<Record>& records,
                     std::vector<Record> batch::*member, channel kind,
                     routing& out, const batch& data);

  batch& part_of(slot s, routing& out, const batch& data);

  /// Records that `s` holds (lets go of) `t`; returns whether `t` gained
  /// its first (lost its last) holder.
  bool hold(slot s, subscriber& sub, const topic& t);
  bool let_go(slot s, subscriber& sub, const topic& t);

  subscriber* find(slot s);

  /// Merges topics that gained their first holder (`gained`, sorted) into
  /// the desired set, or takes out those that lost their last (`lost`).
  void desire(const std::vector<topic>& gained);
  void forgo(const std::vector<topic>& lost);

  std::unordered_map<slot, subscriber> subscribers_;
  /// Per channel: symbol -> slots holding it (wildcard holders excluded
  /// from nothing; routing skips them for specific symbols).
  std::unordered_map<std::string, std::vector<slot>> by_symbol_[channel_count];
  std::vector<slot> wildcard_[channel_count];
  /// Per routing round: the wildcard holders of each channel that do not
  /// take the batch whole (the others need no per-record work).
  std::vector<slot> partial_wildcard_[channel_count];
  uint64_t round_ = 0;
  subscription_set desired_;
};

} // namespace athanor

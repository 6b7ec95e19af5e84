#pragma once

// The market-data REST API's historical records (/v2/stocks/{trades,quotes,
// bars}), as the engine asks for them to repair a gap (backfill).

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

#include "messages/market.hpp"

namespace athanor {

/// One page of one channel's history for some symbols.
struct history_request {
  /// trades, quotes or bars (minute bars).
  channel kind = channel::trades;
  std::vector<std::string> symbols;
  /// [start, end], ns since the Unix epoch.
  timestamp_ns start = 0;
  timestamp_ns end = 0;
  /// The stream's feed (iex, sip, ...).
  std::string feed = "iex";
  /// Records per page (Alpaca: 1..10000).
  uint32_t limit = 10000;
  /// From the previous page; empty for the first.
  std::string page_token;
};

struct history_page {
  /// Sorted by symbol, then time (Alpaca's order).
  batch data;
  /// Empty on the last page.
  std::string next_page_token;
};

/// A gap's repair, fetched: every page of every request, or why not.
struct backfill_result {
  uint64_t job = 0;
  batch data;
  /// Empty on success; otherwise `data` is empty.
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, backfill_result& x) {
  return f(caf::meta::type_name("athanor.backfill_result"), x.job, x.data,
           x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_request& x) {
  return f(caf::meta::type_name("athanor.history_request"), x.kind, x.symbols,
           x.start, x.end, x.feed, x.limit, x.page_token);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_page& x) {
  return f(caf::meta::type_name("athanor.history_page"), x.data,
           x.next_page_token);
}

} // namespace athanor

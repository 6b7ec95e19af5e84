#pragma once

// Alpaca's historical market-data bodies, both directions (the engine's
// backfill and the simulator):
//
//   GET /v2/stocks/trades?symbols=AAPL,MSFT&start=...&end=...&limit=N
//       &feed=iex&sort=asc[&page_token=T]
//   {"trades":{"AAPL":[{"t":...,"x":"V","p":1.5,"s":100,"c":["@"],"i":1,
//              "z":"C"}, ...]}, "next_page_token":null}
//
// quotes ("quotes", the stream's quote fields) and minute bars ("bars",
// timeframe=1Min) likewise. A record is the stream's record without "T"
// and "S", so both share one decoder.

#include <string>

#include "messages/history.hpp"
#include "protocol/market_data.hpp"

namespace athanor::protocol {

/// The request's path and query, e.g. "/v2/stocks/trades?symbols=...".
std::string history_target(const history_request& x);

/// Fills `out` from a page; false with the field at fault otherwise. The
/// channel must be trades, quotes or bars.
bool decode_history_page(channel kind, const std::string& body,
                         history_page& out, decode_problem& problem);

/// A page of `x`'s records of `kind` (the simulator's side).
std::string encode_history_page(channel kind, const history_page& x);

/// The query parameters as a request: what the simulator serves. False with
/// the parameter at fault ("symbols", "start", ...).
bool decode_history_query(channel kind, const std::string& symbols,
                          const std::string& start, const std::string& end,
                          const std::string& limit, history_request& out,
                          decode_problem& problem);

} // namespace athanor::protocol

#pragma once

// What the gateway adds to Alpaca's market-data protocol: a gap marker, so
// a local client learns that data may be missing (Alpaca's SDKs ignore
// message types they do not know):
//
//   [{"T":"gap","reason":"reconnect","since":<ns>,"epoch":<n>,
//     "dropped":<n>,"topics":["quotes:AAPL",...]}]

#include <string>

#include "messages/stream.hpp"
#include "protocol/market_data.hpp"

namespace athanor::protocol {

std::string encode_gap(codec c, const gap& x);

} // namespace athanor::protocol

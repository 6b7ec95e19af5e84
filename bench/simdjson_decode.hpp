#pragma once

// simdjson On-Demand filling our records (quotes and trades), behind a
// small interface so only one file includes simdjson.h.

#include <memory>
#include <string>

#include "messages/market.hpp"

namespace athanor::bench {

class simdjson_decoder {
 public:
  simdjson_decoder();
  ~simdjson_decoder();

  /// Decodes an Alpaca JSON frame's quotes and trades into `out`.
  bool decode(const std::string& frame, batch& out);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace athanor::bench

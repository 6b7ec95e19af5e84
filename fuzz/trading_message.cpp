// Fuzz target: trading-stream messages from the server and from clients
// (the first byte picks which decoder).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "protocol/trading.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace athanor::protocol;
  if (size == 0)
    return 0;
  std::string frame{reinterpret_cast<const char*>(data + 1), size - 1};
  decode_problem problem;
  bool ok;
  if (data[0] % 2 == 0) {
    trading_message out;
    ok = decode_trading_message(frame, out, problem);
    // What decodes must encode and decode again.
    if (ok && out.kind == trading_message::trade_update) {
      trading_message again;
      if (!decode_trading_message(encode_trade_update(out.update), again,
                                  problem))
        std::abort();
    }
  } else {
    trading_client_message out;
    ok = decode_trading_client_message(frame, out, problem);
  }
  if (!ok && problem.field.empty())
    std::abort();
  return 0;
}

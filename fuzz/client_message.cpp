// Fuzz target: client messages, as the simulator and gateway receive them,
// in both codecs (the first byte picks the codec).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "protocol/market_data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace athanor::protocol;
  if (size == 0)
    return 0;
  auto c = data[0] % 2 == 0 ? codec::json : codec::msgpack;
  std::string frame{reinterpret_cast<const char*>(data + 1), size - 1};
  client_message out;
  decode_problem problem;
  if (!decode_client_message(c, frame, out, problem) && problem.field.empty())
    std::abort();
  return 0;
}

// Fuzz target: a MessagePack market-data frame must decode or be refused
// whole, never crash, never leave half a frame behind.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "protocol/market_data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace athanor::protocol;
  market_frame out;
  decode_problem problem;
  if (!decode_msgpack(reinterpret_cast<const char*>(data), size, out, problem)
      && (!out.data.empty() || !out.controls.empty() || problem.field.empty()))
    std::abort();
  return 0;
}

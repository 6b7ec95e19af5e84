// Fuzz target: a JSON market-data frame must decode or be refused whole,
// never crash, never leave half a frame behind.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "protocol/market_data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace athanor::protocol;
  std::string frame{reinterpret_cast<const char*>(data), size};
  market_frame out;
  decode_problem problem;
  if (!decode_json(frame, out, problem)
      && (!out.data.empty() || !out.controls.empty() || problem.field.empty()))
    std::abort();
  return 0;
}

// Fuzz target: REST bodies (order requests, orders, lists, account,
// positions, error bodies); the first byte picks the decoder.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "protocol/rest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace athanor;
  using namespace athanor::protocol;
  if (size == 0)
    return 0;
  std::string body{reinterpret_cast<const char*>(data + 1), size - 1};
  decode_problem problem;
  bool ok = true;
  switch (data[0] % 6) {
    case 0: {
      order_request x;
      ok = decode_order_request(body, x, problem);
      if (ok) {
        order_request again;
        if (!decode_order_request(encode_order_request(x), again, problem))
          std::abort();
      }
      break;
    }
    case 1: {
      order x;
      ok = decode_order(body, x, problem);
      break;
    }
    case 2: {
      std::vector<order> xs;
      ok = decode_orders(body, xs, problem);
      break;
    }
    case 3: {
      account x;
      ok = decode_account(body, x, problem);
      break;
    }
    case 4: {
      std::vector<position> xs;
      ok = decode_positions(body, xs, problem);
      break;
    }
    default:
      decode_api_error(400 + data[0] % 200, body);
      return 0;
  }
  if (!ok && problem.field.empty())
    std::abort();
  return 0;
}

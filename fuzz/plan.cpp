// Fuzz target: plan files (athanor execute, the published front). A plan
// is accepted whole or refused with every problem naming its field; an
// accepted plan survives its canonical encoding unchanged (it is journaled
// and hashed in that form) and its client_order_ids stay within Alpaca's
// 128 characters.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "protocol/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace athanor;
  std::string text{reinterpret_cast<const char*>(data), size};
  plan out;
  std::vector<config_problem> problems;
  if (!protocol::decode_plan(text, out, problems)) {
    if (problems.empty())
      std::abort();
    for (auto& p : problems)
      if (p.option.empty() || p.message.empty())
        std::abort();
    return 0;
  }
  if (!problems.empty() || !protocol::validate(out).empty())
    std::abort();
  auto canonical = protocol::encode_plan(out);
  plan again;
  if (!protocol::decode_plan(canonical, again, problems)
      || protocol::encode_plan(again) != canonical)
    std::abort();
  for (uint32_t i = 0; i < out.items.size(); ++i)
    if (protocol::client_order_id_of(out.plan_id, i).size() > 128)
      std::abort();
  return 0;
}

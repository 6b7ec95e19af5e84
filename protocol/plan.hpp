#pragma once

// The plan file (JSON) and the JSON form of a plan's result.
//
//   {"plan_id": "rebalance-2026-11-23", "correlation_id": "ops-4711",
//    "sequence": "sells_first", "deadline_seconds": 300,
//    "items": [{"symbol": "AAPL", "side": "buy", "qty": "10",
//               "type": "market", "time_in_force": "day"}, ...]}
//
// Numbers may be JSON numbers or strings; both are read exactly (decimal).

#include <string>
#include <vector>

#include "messages/config_problem.hpp"
#include "messages/execution.hpp"

namespace athanor::protocol {

/// The longest plan_id accepted: client_order_ids derive from it.
inline constexpr size_t max_plan_id_length = 64;

/// Parses and validates a plan. Returns false with every problem, each
/// naming its field ("items[2].limit_price"), if anything is wrong.
bool decode_plan(const std::string& text, plan& out,
                 std::vector<config_problem>& problems);

/// Validates a plan built in code; the same rules as decode_plan.
std::vector<config_problem> validate(const plan& x);

/// The canonical JSON of a plan (stable field order): journaled, and
/// hashed to recognise a plan_id reused for different content.
std::string encode_plan(const plan& x);

std::string encode_plan_result(const plan_result& x);

/// The client_order_id of item `index` of plan `plan_id`: deterministic,
/// at most 128 characters, and distinct for every (plan_id, index).
std::string client_order_id_of(const std::string& plan_id, uint32_t index);

} // namespace athanor::protocol

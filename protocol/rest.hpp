#pragma once

// Bodies of Alpaca's trading REST API v2: orders, account, positions and
// error bodies, both directions (engine and simulator).

#include <string>
#include <vector>

#include "messages/orders.hpp"
#include "protocol/market_data.hpp"

namespace athanor::protocol {

std::string encode_order_request(const order_request& x);
/// Validates like Alpaca: exactly one of qty and notional, prices where the
/// type needs them, a client_order_id of at most 128 characters. Order
/// classes other than simple are refused (the engine places none).
bool decode_order_request(const std::string& body, order_request& out,
                          decode_problem& problem);

std::string encode_order(const order& x);
bool decode_order(const std::string& body, order& out, decode_problem& problem);

std::string encode_orders(const std::vector<order>& xs);
bool decode_orders(const std::string& body, std::vector<order>& out,
                   decode_problem& problem);

std::string encode_account(const account& x);
bool decode_account(const std::string& body, account& out,
                    decode_problem& problem);

std::string encode_position(const position& x);
std::string encode_positions(const std::vector<position>& xs);
bool decode_positions(const std::string& body, std::vector<position>& out,
                      decode_problem& problem);

std::string encode_asset(const asset& x);
bool decode_asset(const std::string& body, asset& out, decode_problem& problem);

/// The market-data API's {"symbol": ..., "trade": {"t", "p", ...}}.
std::string encode_latest_trade(const latest_trade& x);
bool decode_latest_trade(const std::string& body, latest_trade& out,
                         decode_problem& problem);

std::string encode_api_error(const api_error& x);
/// Never fails: a body that is not Alpaca's JSON (a proxy's HTML page) keeps
/// the status and becomes the message, shortened.
api_error decode_api_error(int http_status, const std::string& body);

/// Returns whether `x` is the 422 Alpaca answers a reused client_order_id
/// with. Matches status and message: code 40010001 is shared by other
/// validation errors.
bool is_duplicate_client_order_id(const api_error& x);

} // namespace athanor::protocol

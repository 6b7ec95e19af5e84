#include "messages/execution.hpp"

#include <algorithm>

namespace athanor {

std::string to_string(plan_sequence x) {
  switch (x) {
    case plan_sequence::sells_first: return "sells_first";
    case plan_sequence::as_listed: return "as_listed";
  }
  return "?";
}

std::string to_string(http_failure x) {
  switch (x) {
    case http_failure::none: return "none";
    case http_failure::bad_url: return "bad_url";
    case http_failure::resolve_failed: return "resolve_failed";
    case http_failure::connect_failed: return "connect_failed";
    case http_failure::tls_failed: return "tls_failed";
    case http_failure::certificate_invalid: return "certificate_invalid";
    case http_failure::timeout: return "timeout";
    case http_failure::connection_lost: return "connection_lost";
    case http_failure::canceled: return "canceled";
  }
  return "?";
}

std::string to_string(item_outcome x) {
  switch (x) {
    case item_outcome::pending: return "pending";
    case item_outcome::filled: return "filled";
    case item_outcome::partially_filled: return "partially_filled";
    case item_outcome::rejected: return "rejected";
    case item_outcome::canceled: return "canceled";
    case item_outcome::expired: return "expired";
    case item_outcome::timed_out: return "timed_out";
    case item_outcome::not_placed: return "not_placed";
    case item_outcome::mismatch: return "mismatch";
  }
  return "?";
}

bool plan_result::succeeded() const {
  return std::all_of(items.begin(), items.end(), [](const item_result& x) {
    return x.outcome == item_outcome::filled;
  });
}

bool plan_result::finished() const {
  return std::none_of(items.begin(), items.end(), [](const item_result& x) {
    return x.outcome == item_outcome::pending;
  });
}

} // namespace athanor

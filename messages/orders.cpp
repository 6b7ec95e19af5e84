#include "messages/orders.hpp"

#include <array>

namespace athanor {

namespace {

template<class Enum, size_t N>
struct name_table {
  std::array<std::string_view, N> names;

  std::string name(Enum x) const {
    auto i = static_cast<size_t>(x);
    return i < N ? std::string{names[i]} : std::string{"?"};
  }

  std::optional<Enum> parse(std::string_view x) const {
    for (size_t i = 0; i < N; ++i)
      if (names[i] == x)
        return static_cast<Enum>(i);
    return std::nullopt;
  }
};

constexpr name_table<order_side, 2> sides{{"buy", "sell"}};
constexpr name_table<order_type, 5> types{
  {"market", "limit", "stop", "stop_limit", "trailing_stop"}};
constexpr name_table<time_in_force, 6> tifs{
  {"day", "gtc", "opg", "cls", "ioc", "fok"}};
constexpr name_table<order_status, 18> statuses{
  {"new", "partially_filled", "filled", "done_for_day", "canceled", "expired",
   "replaced", "pending_cancel", "pending_replace", "accepted", "pending_new",
   "accepted_for_bidding", "stopped", "rejected", "suspended", "calculated",
   "held", "unknown"}};
constexpr name_table<trade_event, 18> events{
  {"new", "fill", "partial_fill", "canceled", "expired", "done_for_day",
   "replaced", "rejected", "pending_new", "stopped", "pending_cancel",
   "pending_replace", "calculated", "suspended", "order_replace_rejected",
   "order_cancel_rejected", "accepted", "unknown"}};

} // namespace

std::string to_string(order_side x) {
  return sides.name(x);
}
std::string to_string(order_type x) {
  return types.name(x);
}
std::string to_string(time_in_force x) {
  return tifs.name(x);
}
std::string to_string(order_status x) {
  return statuses.name(x);
}
std::string to_string(trade_event x) {
  return events.name(x);
}

std::optional<order_side> parse_order_side(std::string_view x) {
  return sides.parse(x);
}
std::optional<order_type> parse_order_type(std::string_view x) {
  return types.parse(x);
}
std::optional<time_in_force> parse_time_in_force(std::string_view x) {
  return tifs.parse(x);
}
order_status parse_order_status(std::string_view x) {
  return statuses.parse(x).value_or(order_status::unknown);
}
trade_event parse_trade_event(std::string_view x) {
  return events.parse(x).value_or(trade_event::unknown);
}

bool is_final(order_status x) {
  switch (x) {
    case order_status::filled:
    case order_status::canceled:
    case order_status::expired:
    case order_status::replaced:
    case order_status::rejected:
    case order_status::done_for_day: return true;
    default: return false;
  }
}

} // namespace athanor

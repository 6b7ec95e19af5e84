#include "protocol/market_dialect.hpp"

#include <algorithm>

namespace athanor::protocol {

namespace {

bool subscribable(channel x) {
  return x != channel::corrections && x != channel::cancel_errors;
}

} // namespace

subscription_set normalize(subscription_set x) {
  for (auto ch : all_channels) {
    auto& xs = x[ch];
    if (!subscribable(ch)) {
      xs.clear();
      continue;
    }
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  }
  return x;
}

subscription_set difference(const subscription_set& x,
                            const subscription_set& y) {
  subscription_set result;
  for (auto ch : all_channels)
    std::set_difference(x[ch].begin(), x[ch].end(), y[ch].begin(),
                        y[ch].end(), std::back_inserter(result[ch]));
  return result;
}

size_t count(const subscription_set& x) {
  size_t result = 0;
  for (auto& xs : x.symbols)
    result += xs.size();
  return result;
}

bool subscription_tracker::set_desired(subscription_set desired) {
  desired = normalize(std::move(desired));
  if (desired == desired_)
    return false;
  desired_ = std::move(desired);
  return true;
}

std::optional<subscription_tracker::change>
subscription_tracker::next_change() {
  if (in_flight_ || (given_up_ && *given_up_ == desired_))
    return std::nullopt;
  if (auto remove = difference(confirmed_, desired_); !remove.empty())
    in_flight_ = change{false, std::move(remove)};
  else if (auto add = difference(desired_, confirmed_); !add.empty())
    in_flight_ = change{true, std::move(add)};
  else
    return std::nullopt;
  return in_flight_;
}

void subscription_tracker::on_ack(const subscription_set& server_set) {
  auto sent = std::move(in_flight_);
  in_flight_.reset();
  confirmed_ = normalize(server_set);
  given_up_.reset();
  if (!sent)
    return;
  // A server that acknowledges without applying the change would otherwise
  // see the same change again and again.
  auto still_missing = sent->subscribe ? difference(sent->symbols, confirmed_)
                                       : subscription_set{};
  if (!still_missing.empty())
    given_up_ = desired_;
}

void subscription_tracker::on_refused() {
  in_flight_.reset();
  given_up_ = desired_;
}

void subscription_tracker::on_timeout() {
  in_flight_.reset();
}

void subscription_tracker::on_disconnect() {
  in_flight_.reset();
  confirmed_ = subscription_set{};
  given_up_.reset();
}

std::string to_string(dialect_event::kind_t x) {
  switch (x) {
    case dialect_event::welcome: return "welcome";
    case dialect_event::authenticated: return "authenticated";
    case dialect_event::subscribed: return "subscribed";
    case dialect_event::subscription_refused: return "subscription_refused";
    case dialect_event::slow_client: return "slow_client";
    case dialect_event::connection_limit: return "connection_limit";
    case dialect_event::fatal: return "fatal";
    case dialect_event::server_error: return "server_error";
    case dialect_event::ignored: return "ignored";
  }
  return "dialect_event(?)";
}

std::string market_dialect::auth(const credentials& creds) const {
  return encode_auth(encoding_, creds);
}

std::string
market_dialect::encode(const subscription_tracker::change& x) const {
  return x.subscribe ? encode_subscribe(encoding_, x.symbols)
                     : encode_unsubscribe(encoding_, x.symbols);
}

dialect_event market_dialect::interpret(const stream_control& x) const {
  dialect_event result;
  result.code = x.code;
  result.message = x.message;
  switch (x.kind) {
    case stream_control::success:
      if (x.message == "connected")
        result.kind = dialect_event::welcome;
      else if (x.message == "authenticated")
        result.kind = dialect_event::authenticated;
      return result;
    case stream_control::subscription:
      result.kind = dialect_event::subscribed;
      return result;
    case stream_control::error:
      break;
  }
  result.errc = from_alpaca_stream_code(x.code).value_or(
    engine_errc::server_error);
  switch (x.code) {
    case 400:
    case 405:
    case 410:
      result.kind = dialect_event::subscription_refused;
      break;
    case 402:
    case 408:
    case 409:
    case 411:
      result.kind = dialect_event::fatal;
      break;
    case 406:
      result.kind = dialect_event::connection_limit;
      break;
    case 407:
      result.kind = dialect_event::slow_client;
      break;
    default:
      result.kind = dialect_event::server_error;
  }
  return result;
}

} // namespace athanor::protocol

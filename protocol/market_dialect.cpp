#include "protocol/market_dialect.hpp"

#include <algorithm>

namespace athanor::protocol {

namespace {

bool subscribable(channel x) {
  return x != channel::corrections && x != channel::cancel_errors;
}

// Applies a sorted-range set operation (std::set_difference, ...) to every
// channel's symbols of `x` and `y` (both normalized).
template <class SetOperation>
subscription_set per_channel(const subscription_set& x,
                             const subscription_set& y, SetOperation op) {
  subscription_set result;
  for (auto ch : all_channels)
    op(x[ch].begin(), x[ch].end(), y[ch].begin(), y[ch].end(),
       std::back_inserter(result[ch]));
  return result;
}

} // namespace

std::string to_string(feed_family x) {
  switch (x) {
    case feed_family::stocks: return "stocks";
    case feed_family::crypto: return "crypto";
    case feed_family::options: return "options";
    case feed_family::news: return "news";
    case feed_family::unknown: return "unknown";
  }
  return "feed_family(?)";
}

feed_family family_of_endpoint(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos)
    return feed_family::unknown;
  auto path = url.substr(slash);
  auto starts = [&](const char* prefix) { return path.rfind(prefix, 0) == 0; };
  if (starts("/v2/"))
    return feed_family::stocks;
  if (starts("/v1beta3/crypto/") || starts("/v1beta2/crypto")
      || starts("/v1beta1/crypto"))
    return feed_family::crypto;
  if (starts("/v1beta1/indicative") || starts("/v1beta1/opra"))
    return feed_family::options;
  if (starts("/v1beta1/news"))
    return feed_family::news;
  return feed_family::unknown;
}

bool offers(feed_family family, channel ch) {
  switch (family) {
    case feed_family::stocks:
      return ch != channel::orderbooks;
    case feed_family::crypto:
      return ch == channel::trades || ch == channel::quotes
             || ch == channel::bars || ch == channel::updated_bars
             || ch == channel::daily_bars || ch == channel::orderbooks;
    case feed_family::options:
      return ch == channel::trades || ch == channel::quotes;
    case feed_family::news:
      // News has a channel of its own, which this engine does not stream
      // yet.
      return false;
    case feed_family::unknown:
      return true;
  }
  return true;
}

subscription_set normalize(subscription_set x) {
  for (auto ch : all_channels) {
    auto& xs = x[ch];
    if (!subscribable(ch)) {
      xs.clear();
      continue;
    }
    // Server acks and registry sets come sorted: check in O(n) first.
    if (!std::is_sorted(xs.begin(), xs.end()))
      std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  }
  return x;
}

subscription_set difference(const subscription_set& x,
                            const subscription_set& y) {
  return per_channel(x, y, [](auto... xs) { std::set_difference(xs...); });
}

size_t count(const subscription_set& x) {
  size_t result = 0;
  for (auto& xs : x.symbols)
    result += xs.size();
  return result;
}

namespace {

subscription_set intersection(const subscription_set& x,
                              const subscription_set& y) {
  return per_channel(x, y, [](auto... xs) { std::set_intersection(xs...); });
}

subscription_set union_of(const subscription_set& x,
                          const subscription_set& y) {
  return per_channel(x, y, [](auto... xs) { std::set_union(xs...); });
}

// Splits a refused change: one piece per channel if it spans several, else
// its symbols in two halves. Finding one bad topic among n costs about
// 2 log n round trips.
std::vector<subscription_set> split(const subscription_set& x) {
  std::vector<subscription_set> pieces;
  for (auto ch : all_channels) {
    if (x[ch].empty())
      continue;
    pieces.emplace_back();
    pieces.back()[ch] = x[ch];
  }
  if (pieces.size() > 1)
    return pieces;
  auto& only = pieces.front();
  for (auto ch : all_channels) {
    auto& xs = only[ch];
    if (xs.size() < 2)
      continue;
    auto middle = xs.begin() + static_cast<std::ptrdiff_t>(xs.size() / 2);
    subscription_set low;
    subscription_set high;
    low[ch].assign(xs.begin(), middle);
    high[ch].assign(middle, xs.end());
    return {std::move(low), std::move(high)};
  }
  return pieces;
}

// Returns the first `n` topics of `x`, channel by channel.
subscription_set first_topics(subscription_set x, size_t n) {
  for (auto ch : all_channels) {
    auto& xs = x[ch];
    if (xs.size() > n)
      xs.resize(n);
    n -= xs.size();
  }
  return x;
}

} // namespace

bool subscription_tracker::set_desired(subscription_set desired) {
  desired = normalize(std::move(desired));
  if (desired == desired_)
    return false;
  desired_ = std::move(desired);
  // A refused topic that nobody wants any more is forgotten: asked for
  // again later, it is tried again.
  refused_ = intersection(refused_, desired_);
  return true;
}

bool subscription_tracker::settled() const {
  return !in_flight_ && probes_.empty()
         && confirmed_ == difference(desired_, refused_);
}

std::optional<subscription_tracker::change>
subscription_tracker::next_change() {
  if (in_flight_ || (given_up_ && *given_up_ == desired_))
    return std::nullopt;
  auto wanted = difference(desired_, refused_);
  if (auto remove = difference(confirmed_, wanted); !remove.empty()) {
    in_flight_ = change{false,
                        first_topics(std::move(remove), max_change_topics)};
    return in_flight_;
  }
  auto missing = difference(wanted, confirmed_);
  while (!probes_.empty()) {
    auto piece = intersection(probes_.front().symbols, missing);
    probes_.pop_front();
    if (!piece.empty()) {
      if (count(piece) > max_change_topics) {
        // Too big to send whole: its other half goes next.
        probes_.push_front(change{true, difference(piece,
                                                   first_topics(
                                                     piece,
                                                     max_change_topics))});
        piece = first_topics(std::move(piece), max_change_topics);
      }
      in_flight_ = change{true, std::move(piece)};
      return in_flight_;
    }
  }
  if (missing.empty())
    return std::nullopt;
  in_flight_ = change{true,
                      first_topics(std::move(missing), max_change_topics)};
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

std::vector<topic> subscription_tracker::on_refused() {
  auto sent = std::move(in_flight_);
  in_flight_.reset();
  if (!sent || !sent->subscribe) {
    given_up_ = desired_;
    return {};
  }
  if (count(sent->symbols) == 1) {
    refused_ = union_of(refused_, sent->symbols);
    for (auto ch : all_channels)
      if (!sent->symbols[ch].empty())
        return {topic{ch, sent->symbols[ch].front()}};
  }
  auto pieces = split(sent->symbols);
  for (auto i = pieces.rbegin(); i != pieces.rend(); ++i)
    probes_.push_front(change{true, std::move(*i)});
  return {};
}

void subscription_tracker::on_timeout() {
  in_flight_.reset();
}

void subscription_tracker::on_disconnect() {
  in_flight_.reset();
  confirmed_ = subscription_set{};
  given_up_.reset();
  probes_.clear();
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

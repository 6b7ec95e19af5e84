#include "actors/admin/status_history.hpp"

#include <cstdio>

namespace athanor {

namespace {

// The sample `name` whose labels include every one of `match`; null if none.
const metric_sample*
find(const metric_samples& xs, const std::string& name,
     const std::map<std::string, std::string>& match) {
  for (auto& x : xs) {
    if (x.name != name)
      continue;
    auto fits = true;
    for (auto& [key, value] : match) {
      auto i = x.labels.find(key);
      if (i == x.labels.end() || i->second != value) {
        fits = false;
        break;
      }
    }
    if (fits)
      return &x;
  }
  return nullptr;
}

std::string label(const metric_sample& x, const std::string& key) {
  auto i = x.labels.find(key);
  return i == x.labels.end() ? std::string{} : i->second;
}

} // namespace

status_history::status_history(status_history_limits limits)
  : limits_(limits) {}

void status_history::record(double t,
                            const std::vector<upstream_health>& upstreams,
                            const metric_samples& samples) {
  forget_before(t - limits_.window_seconds);
  // By endpoint: the metrics name upstreams by endpoint, people by name.
  std::map<std::string, std::string> name_of;
  for (auto& u : upstreams) {
    name_of[u.endpoint] = u.name;
    std::map<std::string, std::string> same{{"endpoint", u.endpoint}};
    if (auto x = find(samples, "athanor_session_records_per_second", same))
      add(t, "upstream", u.name, "records/s", x->value);
    if (auto x = find(samples, "athanor_session_lag_max_seconds", same))
      add(t, "upstream", u.name, "lag s", x->value);
    auto before = states_.find(u.name);
    if (before != states_.end() && before->second != u.state) {
      auto text = u.name + ": " + to_string(before->second) + " -> "
                  + to_string(u.state);
      if (u.state != session_state::streaming && !u.last_error.empty())
        text += " (" + u.last_error + ")";
      event(t, "state", std::move(text));
    }
    states_[u.name] = u.state;
    auto restarted = restarts_.find(u.name);
    if (restarted != restarts_.end() && u.restarts > restarted->second)
      event(t, "restart",
            u.name + ": restarted (" + std::to_string(u.restarts) + " so far)");
    restarts_[u.name] = u.restarts;
  }
  for (auto& x : samples) {
    if (x.name == "athanor_subscriber_records_per_second")
      add(t, "subscriber", label(x, "subscriber"), "records/s", x.value);
    else if (x.name == "athanor_subscriber_lag_max_seconds")
      add(t, "subscriber", label(x, "subscriber"), "lag s", x.value);
    else if (x.name == "athanor_breaker_state" && x.value == 1) {
      auto endpoint = label(x, "endpoint");
      auto state = label(x, "state");
      auto before = breakers_.find(endpoint);
      if (before != breakers_.end() && before->second != state)
        event(t, "breaker",
              "breaker " + endpoint + ": " + before->second + " -> " + state);
      breakers_[endpoint] = state;
    } else if (x.name == "athanor_session_gaps_total") {
      auto endpoint = label(x, "endpoint");
      auto before = gaps_.find(endpoint);
      if (before != gaps_.end() && x.value > before->second) {
        auto who = name_of.count(endpoint) ? name_of[endpoint] : endpoint;
        char n[32];
        std::snprintf(n, sizeof(n), "%.0f", x.value - before->second);
        event(t, "gap", who + ": " + n + " gap(s) marked to subscribers");
      }
      gaps_[endpoint] = x.value;
    }
  }
}

void status_history::add(double t, const std::string& group,
                         const std::string& owner, const std::string& unit,
                         double value) {
  auto key = group + " " + owner + " " + unit;
  auto i = series_.find(key);
  if (i == series_.end()) {
    if (series_.size() >= limits_.max_series) {
      ++left_out_;
      return;
    }
    i = series_.emplace(key, history_series{group, owner, unit, {}}).first;
  }
  i->second.points.push_back({t, value});
}

void status_history::event(double t, std::string kind, std::string text) {
  events_.push_back({t, std::move(kind), std::move(text)});
  while (events_.size() > limits_.max_events)
    events_.pop_front();
}

void status_history::forget_before(double t) {
  for (auto i = series_.begin(); i != series_.end();) {
    auto& points = i->second.points;
    while (!points.empty() && points.front().t < t)
      points.pop_front();
    i = points.empty() ? series_.erase(i) : std::next(i);
  }
  while (!events_.empty() && events_.front().t < t)
    events_.pop_front();
}

} // namespace athanor

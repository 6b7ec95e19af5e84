#define CAF_SUITE unit.status_history
#include "actors/admin/status_history.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;

namespace {

upstream_health market(session_state state, uint32_t restarts = 0) {
  upstream_health u;
  u.name = "market";
  u.endpoint = "wss://stream/v2/iex";
  u.state = state;
  u.leases = 1;
  u.restarts = restarts;
  if (state != session_state::streaming)
    u.last_error = "connection_lost: reset";
  return u;
}

metric_samples figures(double records_per_second, double lag, double gaps,
                       const char* breaker = "closed") {
  std::map<std::string, std::string> session{
    {"endpoint", "wss://stream/v2/iex"}, {"key", "fp"}};
  std::map<std::string, std::string> sub{{"registry", "market"},
                                         {"subscriber", "desk"}};
  return {
    {"athanor_session_records_per_second", metric_kind::gauge, session,
     records_per_second},
    {"athanor_session_lag_max_seconds", metric_kind::gauge, session, lag},
    {"athanor_session_gaps_total", metric_kind::counter, session, gaps},
    {"athanor_subscriber_records_per_second", metric_kind::gauge, sub,
     records_per_second / 2},
    {"athanor_subscriber_lag_max_seconds", metric_kind::gauge, sub, lag * 2},
    {"athanor_breaker_state", metric_kind::gauge,
     {{"endpoint", "wss://stream/v2/iex"}, {"state", breaker}}, 1},
    {"athanor_breaker_state", metric_kind::gauge,
     {{"endpoint", "wss://stream/v2/iex"}, {"state", "open"}},
     std::string{breaker} == "open" ? 1.0 : 0.0},
  };
}

} // namespace

CAF_TEST(each upstream and subscriber gets a records and a lag series) {
  status_history h;
  h.record(0, {market(session_state::streaming)}, figures(100, 0.02, 0));
  h.record(2, {market(session_state::streaming)}, figures(120, 0.03, 0));
  auto& xs = h.series();
  CAF_REQUIRE_EQUAL(xs.size(), 4u);
  auto& rps = xs.at("upstream market records/s");
  CAF_REQUIRE_EQUAL(rps.points.size(), 2u);
  CAF_CHECK_EQUAL(rps.points[1].t, 2.0);
  CAF_CHECK_EQUAL(rps.points[1].value, 120.0);
  CAF_CHECK_EQUAL(xs.at("subscriber desk lag s").points[0].value, 0.04);
  CAF_CHECK(h.events().empty());
}

CAF_TEST(state changes restarts breaker changes and gaps make the timeline) {
  status_history h;
  h.record(0, {market(session_state::streaming)}, figures(100, 0.02, 0));
  h.record(2, {market(session_state::backing_off)},
           figures(0, 0, 0, "open"));
  h.record(4, {market(session_state::streaming, 1)}, figures(90, 0.1, 1));
  std::vector<std::string> texts;
  for (auto& e : h.events())
    texts.push_back(e.kind + ": " + e.text);
  std::vector<std::string> expected{
    "state: market: streaming -> backing_off (connection_lost: reset)",
    "breaker: breaker wss://stream/v2/iex: closed -> open",
    "state: market: backing_off -> streaming",
    "restart: market: restarted (1 so far)",
    "gap: market: 1 gap(s) marked to subscribers",
    "breaker: breaker wss://stream/v2/iex: open -> closed",
  };
  CAF_CHECK_EQUAL(texts, expected);
}

CAF_TEST(points and events older than the window are forgotten) {
  status_history_limits limits;
  limits.window_seconds = 10;
  status_history h{limits};
  h.record(0, {market(session_state::streaming)}, figures(100, 0.02, 0));
  h.record(5, {market(session_state::failed)}, figures(0, 0, 0));
  h.record(12, {market(session_state::failed)}, figures(0, 0, 0));
  CAF_CHECK_EQUAL(h.series().at("upstream market records/s").points.size(),
                  2u);
  CAF_CHECK_EQUAL(h.events().size(), 1u);
  h.record(16, {market(session_state::failed)}, figures(0, 0, 0));
  CAF_CHECK(h.events().empty());
  // A subscriber gone for longer than the window leaves no series.
  h.record(30, {market(session_state::failed)}, {});
  CAF_CHECK(h.series().empty());
}

CAF_TEST(series beyond the limit are counted not kept) {
  status_history_limits limits;
  limits.max_series = 3;
  status_history h{limits};
  metric_samples many;
  for (int i = 0; i < 1000; ++i)
    many.push_back({"athanor_subscriber_records_per_second",
                    metric_kind::gauge,
                    {{"subscriber", "s" + std::to_string(i)}},
                    1});
  h.record(0, {}, many);
  CAF_CHECK_EQUAL(h.series().size(), 3u);
  CAF_CHECK_EQUAL(h.series_left_out(), 997u);
}

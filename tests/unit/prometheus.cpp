#define CAF_SUITE unit.prometheus
#include "observability/prometheus.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;

CAF_TEST(samples are grouped by name under one type line) {
  metric_samples xs{
    {"athanor_a_total", metric_kind::counter, {{"k", "1"}}, 3},
    {"athanor_b", metric_kind::gauge, {}, 0.5},
    {"athanor_a_total", metric_kind::counter, {{"k", "2"}}, 4},
  };
  CAF_CHECK_EQUAL(to_prometheus(xs),
                  "# TYPE athanor_a_total counter\n"
                  "athanor_a_total{k=\"1\"} 3\n"
                  "athanor_a_total{k=\"2\"} 4\n"
                  "# TYPE athanor_b gauge\n"
                  "athanor_b 0.5\n");
}

CAF_TEST(a histogram is one family under one type line) {
  metric_samples xs{
    {"athanor_lag_seconds_bucket", metric_kind::histogram, {{"le", "0.1"}}, 2},
    {"athanor_lag_seconds_bucket", metric_kind::histogram, {{"le", "+Inf"}}, 3},
    {"athanor_lag_seconds_sum", metric_kind::histogram, {}, 0.5},
    {"athanor_lag_seconds_count", metric_kind::histogram, {}, 3},
  };
  CAF_CHECK_EQUAL(to_prometheus(xs),
                  "# TYPE athanor_lag_seconds histogram\n"
                  "athanor_lag_seconds_bucket{le=\"0.1\"} 2\n"
                  "athanor_lag_seconds_bucket{le=\"+Inf\"} 3\n"
                  "athanor_lag_seconds_sum 0.5\n"
                  "athanor_lag_seconds_count 3\n");
}

CAF_TEST(label values are escaped and names sanitized) {
  metric_samples xs{{"athanor.bad-name", metric_kind::gauge,
                     {{"endpoint", "a\"b\\c\nd"}, {"9x", "v"}}, 1}};
  CAF_CHECK_EQUAL(to_prometheus(xs),
                  "# TYPE athanor_bad_name gauge\n"
                  "athanor_bad_name{_9x=\"v\",endpoint=\"a\\\"b\\\\c\\nd\"} 1\n");
}

#define CAF_SUITE unit.engine_errc
#include "messages/error.hpp"

#include "caf/test/unit_test.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/sec.hpp"

#include "messages/breaker.hpp"
#include "messages/register.hpp"

using namespace athanor;

CAF_TEST(every value has a unique name that parses back) {
  std::set<std::string> names;
  for (int i = 1; i <= static_cast<int>(engine_errc::not_permitted); ++i) {
    auto x = static_cast<engine_errc>(i);
    auto name = to_string(x);
    CAF_CHECK(name.find("engine_errc(") == std::string::npos);
    CAF_CHECK(names.insert(name).second);
    CAF_CHECK_EQUAL(parse_engine_errc(name), x);
  }
  CAF_CHECK_EQUAL(parse_engine_errc("no_such_error"), std::nullopt);
}

CAF_TEST(classification drives retries and the breaker) {
  CAF_CHECK(is_fatal(engine_errc::auth_failed));
  CAF_CHECK(is_fatal(engine_errc::insufficient_subscription));
  CAF_CHECK(is_fatal(engine_errc::upgrade_rejected));
  CAF_CHECK(is_retryable(engine_errc::connection_limit));
  CAF_CHECK(is_retryable(engine_errc::rate_limited));
  CAF_CHECK(is_retryable(engine_errc::connection_lost));
  CAF_CHECK(!is_retryable(engine_errc::order_rejected));
  CAF_CHECK(!is_fatal(engine_errc::order_rejected));
  CAF_CHECK_EQUAL(outcome_of(engine_errc::order_rejected),
                  call_outcome::ignored);
  CAF_CHECK_EQUAL(outcome_of(engine_errc::connection_lost),
                  call_outcome::failure);
  CAF_CHECK_EQUAL(outcome_of(engine_errc::auth_failed), call_outcome::failure);
  // A server asking us to wait is not a failing endpoint.
  CAF_CHECK_EQUAL(outcome_of(engine_errc::connection_limit),
                  call_outcome::ignored);
  CAF_CHECK_EQUAL(outcome_of(engine_errc::rate_limited),
                  call_outcome::ignored);
}

CAF_TEST(alpaca stream codes map to engine errors) {
  CAF_CHECK_EQUAL(from_alpaca_stream_code(402), engine_errc::auth_failed);
  CAF_CHECK_EQUAL(from_alpaca_stream_code(406), engine_errc::connection_limit);
  CAF_CHECK_EQUAL(from_alpaca_stream_code(407), engine_errc::slow_client);
  CAF_CHECK_EQUAL(from_alpaca_stream_code(409),
                  engine_errc::insufficient_subscription);
  CAF_CHECK_EQUAL(from_alpaca_stream_code(410),
                  engine_errc::invalid_subscription);
  CAF_CHECK_EQUAL(from_alpaca_stream_code(500), engine_errc::server_error);
  CAF_CHECK_EQUAL(from_alpaca_stream_code(499), std::nullopt);
}

CAF_TEST(errors carry their detail and retry_after) {
  auto err = make_error(engine_errc::decode_error, "field 'p' at byte 17");
  CAF_CHECK_EQUAL(errc_of(err), engine_errc::decode_error);
  CAF_CHECK_EQUAL(detail_of(err), "field 'p' at byte 17");
  CAF_CHECK_EQUAL(retry_after(err), std::nullopt);
  auto refused = make_retry_error(engine_errc::breaker_open,
                                  std::chrono::seconds{42});
  CAF_CHECK_EQUAL(retry_after(refused),
                  std::chrono::nanoseconds{std::chrono::seconds{42}});
  CAF_CHECK(err == engine_errc::decode_error);
  CAF_CHECK_EQUAL(errc_of(caf::make_error(caf::sec::request_timeout)),
                  std::nullopt);
  CAF_CHECK_EQUAL(classify(caf::make_error(caf::sec::request_timeout)),
                  error_class::retryable);
}

CAF_TEST(the registered category renders errors readably) {
  caf::actor_system_config cfg;
  add_message_types(cfg);
  caf::actor_system sys{cfg};
  auto err = make_error(engine_errc::auth_failed, "key fingerprint 1a2b3c4d");
  CAF_CHECK_EQUAL(sys.render(err),
                  "athanor.auth_failed: key fingerprint 1a2b3c4d");
  CAF_CHECK_EQUAL(render(err), sys.render(err));
  auto refused = make_retry_error(engine_errc::breaker_open,
                                  std::chrono::milliseconds{1500});
  CAF_CHECK(sys.render(refused).find("athanor.breaker_open: retry after") == 0);
}

#define CAF_SUITE unit.secret
#include "messages/secret.hpp"

#include "caf/test/unit_test.hpp"

#include <sstream>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_serializer.hpp"
#include "caf/deep_to_string.hpp"
#include "caf/make_message.hpp"

#include "messages/error.hpp"
#include "messages/register.hpp"
#include "observability/log.hpp"
#include "runtime/config.hpp"

using namespace athanor;

namespace {

constexpr const char* canary = "CANARY-5ecr3t-d0-n0t-print";
constexpr const char* canary_key = "CANARYKEYID0042";

void check_clean(const std::string& output, const char* path) {
  CAF_MESSAGE("checking " << path);
  CAF_CHECK(output.find(canary) == std::string::npos);
  CAF_CHECK(output.find(canary_key) == std::string::npos);
  // Not even a long fragment of it.
  CAF_CHECK(output.find("5ecr3t") == std::string::npos);
}

// A secret cannot reach a log field or a string by accident.
static_assert(
  !std::is_constructible_v<log::field, std::string_view, const secret&>);
static_assert(!std::is_convertible_v<secret, std::string>);
static_assert(!std::is_convertible_v<secret, std::string_view>);

} // namespace

CAF_TEST(a secret prints as stars and keeps its value for the wire) {
  secret s{canary};
  CAF_CHECK_EQUAL(s.reveal(), canary);
  CAF_CHECK_EQUAL(to_string(s), "***");
  CAF_CHECK_EQUAL(to_string(secret{}), "");
  CAF_CHECK_EQUAL(s.fingerprint().size(), 8u);
  CAF_CHECK_EQUAL(s.fingerprint(), sha256_hex(canary).substr(0, 8));
  CAF_CHECK(secret{"a"} != secret{"b"});
  CAF_CHECK(secret{canary} == s);
  auto copy = s;
  auto moved = std::move(copy);
  CAF_CHECK_EQUAL(to_string(moved), "***");
  CAF_CHECK_EQUAL(moved.reveal(), canary);
}

CAF_TEST(a canary secret never appears in any output) {
  credentials creds{secret{canary_key}, secret{canary}};
  // Streams, to_string and fmt.
  std::ostringstream stream;
  stream << creds.key_id << creds.secret_key;
  check_clean(stream.str(), "operator<<");
  check_clean(to_string(creds.secret_key), "to_string");
  check_clean(fmt::format("{} {}", fmt::streamed(creds.key_id),
                          fmt::streamed(creds.secret_key)),
              "fmt");
  // CAF's printing: deep_to_string, messages, errors.
  check_clean(caf::deep_to_string(creds), "deep_to_string(credentials)");
  check_clean(caf::deep_to_string(creds.secret_key), "deep_to_string(secret)");
  auto msg = caf::make_message(creds, creds.secret_key);
  check_clean(caf::to_string(msg), "to_string(message)");
  caf::actor_system_config cfg;
  add_message_types(cfg);
  caf::actor_system sys{cfg};
  caf::error err{static_cast<uint8_t>(engine_errc::auth_failed),
                 error_category(), caf::make_message(creds.secret_key)};
  check_clean(sys.render(err), "sys.render(error)");
  check_clean(caf::to_string(err), "to_string(error)");
  check_clean(render(err), "render(error)");
  // Serialization: a secret never leaves the process.
  std::vector<char> buffer;
  caf::binary_serializer sink{sys, buffer};
  CAF_CHECK(!sink(creds));
  check_clean(std::string{buffer.begin(), buffer.end()}, "binary_serializer");
  // Logs, in both formats, with the fingerprint where a person needs it.
  for (auto fmt : {log::format::human, log::format::json}) {
    std::ostringstream captured;
    log::configure({fmt, log::level::trace}, captured);
    log::info("test", "credentials_loaded",
              {{"key_fingerprint", creds.fingerprint()}});
    log::error("test", "auth_failed", trace::root(), {{"error", render(err)}});
    check_clean(captured.str(), "log");
    CAF_CHECK(captured.str().find(creds.fingerprint()) != std::string::npos);
  }
  log::configure({log::format::human, log::level::off});
  // The configuration as check-config prints it, and its error messages.
  environment env{{"ALPACA_API_KEY", canary_key},
                  {"ALPACA_API_SECRET", canary},
                  {"APCA_API_SECRET_KEY", std::string{canary} + "-other"},
                  {"ATHANOR_GATEWAY_KEY", canary_key}};
  auto loaded = load_config({"check-config"}, env);
  CAF_CHECK(!loaded.problems.empty());
  check_clean(to_string(loaded.problems), "config problems");
  check_clean(render_ini(loaded.config), "render_ini");
  check_clean(help_text(), "help");
  CAF_CHECK(render_ini(loaded.config).find(creds.fingerprint())
            != std::string::npos);
}

#define CAF_SUITE unit.log
#include "observability/log.hpp"

#include "caf/test/unit_test.hpp"

#include <sstream>

#include <rapidjson/document.h>

using namespace athanor;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      result.push_back(line);
  return result;
}

struct fixture {
  std::ostringstream captured;
  ~fixture() {
    log::configure({log::format::human, log::level::off});
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(log_tests, fixture)

CAF_TEST(json lines carry trace ids and typed fields) {
  log::configure({log::format::json, log::level::info}, captured);
  auto cause = trace::root("plan-42").caused();
  log::info("breaker", "state_change", cause,
            {{"endpoint", "md:iex"},
             {"from", "closed"},
             {"open_for_ms", 60000.0},
             {"trips", 3},
             {"forced", false},
             {"note", "quote \" and\nnewline"}});
  auto lines = lines_of(captured.str());
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  rapidjson::Document doc;
  doc.Parse(lines[0].c_str());
  CAF_REQUIRE(!doc.HasParseError());
  CAF_CHECK(doc["ts"].IsString());
  CAF_CHECK_EQUAL(std::string{doc["level"].GetString()}, "info");
  CAF_CHECK_EQUAL(std::string{doc["actor"].GetString()}, "breaker");
  CAF_CHECK_EQUAL(std::string{doc["event"].GetString()}, "state_change");
  CAF_CHECK_EQUAL(std::string{doc["correlation_id"].GetString()}, "plan-42");
  CAF_CHECK_EQUAL(std::string{doc["causation_id"].GetString()},
                  cause.causation.value);
  CAF_CHECK_EQUAL(std::string{doc["message_id"].GetString()}, cause.id);
  CAF_CHECK_EQUAL(doc["open_for_ms"].GetDouble(), 60000.0);
  CAF_CHECK_EQUAL(doc["trips"].GetInt64(), 3);
  CAF_CHECK_EQUAL(doc["forced"].GetBool(), false);
  CAF_CHECK_EQUAL(std::string{doc["note"].GetString()},
                  "quote \" and\nnewline");
}

CAF_TEST(human lines hold key value pairs and the trace) {
  log::configure({log::format::human, log::level::info}, captured);
  auto cause = trace::root("flow-1");
  log::warn("supervisor", "child_exit", cause,
            {{"child", "md-session"}, {"reason", "athanor.connection_lost"}});
  auto text = captured.str();
  CAF_CHECK(text.find("warn") != std::string::npos);
  CAF_CHECK(text.find("supervisor: child_exit child=md-session "
                      "reason=athanor.connection_lost correlation_id=flow-1 "
                      "causation_id=-")
            != std::string::npos);
}

CAF_TEST(records below the level are not written) {
  log::configure({log::format::json, log::level::warn}, captured);
  log::info("x", "not_written");
  log::debug("x", "not_written_either");
  log::warn("x", "written");
  auto lines = lines_of(captured.str());
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  CAF_CHECK(lines[0].find("written") != std::string::npos);
  CAF_CHECK(!log::enabled(log::level::info));
  CAF_CHECK(log::enabled(log::level::error));
}

CAF_TEST(levels and formats parse from their names) {
  CAF_CHECK_EQUAL(log::parse_level("debug"), log::level::debug);
  CAF_CHECK_EQUAL(log::parse_level("loud"), std::nullopt);
  CAF_CHECK_EQUAL(log::parse_format("json"), log::format::json);
  CAF_CHECK_EQUAL(log::parse_format("xml"), std::nullopt);
}

CAF_TEST_FIXTURE_SCOPE_END()

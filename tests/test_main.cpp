#define CAF_TEST_NO_MAIN
#include "caf/test/unit_test_impl.hpp"

#include <cstdlib>

#include "observability/log.hpp"

int main(int argc, char** argv) {
  // Tests that look at logs capture them; the rest stay quiet unless
  // ATHANOR_TEST_LOG names a level (e.g. ATHANOR_TEST_LOG=debug).
  auto level = athanor::log::level::off;
  if (auto name = std::getenv("ATHANOR_TEST_LOG"))
    level = athanor::log::parse_level(name).value_or(level);
  athanor::log::configure({athanor::log::format::human, level});
  return caf::test::main(argc, argv);
}

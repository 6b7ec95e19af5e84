#include "sim/scenario.hpp"

#include <sstream>

namespace athanor::sim {

bool is_known_fault(const std::string& name) {
  for (auto x : {"close", "reset", "stall", "malformed", "delay", "storm406",
                 "storm429", "rest500", "stream_reset", "tls_refuse"})
    if (name == x)
      return true;
  return false;
}

std::optional<std::chrono::nanoseconds> parse_duration(const std::string& x) {
  size_t digits = 0;
  while (digits < x.size() && x[digits] >= '0' && x[digits] <= '9')
    ++digits;
  if (digits == 0 || digits > 12)
    return std::nullopt;
  auto n = std::stoll(x.substr(0, digits));
  auto unit = x.substr(digits);
  if (unit.empty() || unit == "ms")
    return std::chrono::milliseconds{n};
  if (unit == "s")
    return std::chrono::seconds{n};
  if (unit == "min")
    return std::chrono::minutes{n};
  return std::nullopt;
}

std::optional<std::vector<scenario_step>>
parse_scenario(const std::string& text, std::string& error) {
  std::vector<scenario_step> result;
  std::istringstream in{text};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    auto hash = line.find('#');
    if (hash != std::string::npos)
      line.erase(hash);
    std::istringstream words{line};
    std::string at;
    if (!(words >> at))
      continue;
    auto fail = [&](const std::string& why) {
      error = "line " + std::to_string(number) + ": " + why;
      return std::nullopt;
    };
    scenario_step step;
    auto when = parse_duration(at);
    if (!when)
      return fail("'" + at + "' is not a time such as 500ms or 2s");
    step.at = *when;
    if (!(words >> step.fault))
      return fail("a fault is missing after the time");
    if (!is_known_fault(step.fault))
      return fail("unknown fault '" + step.fault + "'");
    for (std::string word; words >> word;) {
      auto eq = word.find('=');
      if (eq != std::string::npos) {
        step.args[word.substr(0, eq)] = word.substr(eq + 1);
      } else if (auto d = parse_duration(word)) {
        step.duration = *d;
      } else {
        return fail("'" + word + "' is neither a duration nor key=value");
      }
    }
    result.push_back(std::move(step));
  }
  return result;
}

} // namespace athanor::sim

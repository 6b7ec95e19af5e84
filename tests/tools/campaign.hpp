#pragma once

// What the campaign tools (athanor-crash, athanor-soak) share: reading
// the files their processes write, and their --name=N options.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace athanor::campaign {

inline std::string read_all(const std::string& path) {
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in{path};
  std::vector<std::string> result;
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

/// Reads "--name=N" into `out`; false if `arg` is another option.
inline bool number_option(const char* arg, const char* name, uint64_t& out) {
  auto n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=')
    return false;
  out = std::strtoull(arg + n + 1, nullptr, 10);
  return true;
}

} // namespace athanor::campaign

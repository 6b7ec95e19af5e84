#pragma once

// The configuration file (CAF's INI dialect as render_ini writes it), read
// line by line so every problem can name its file and line: [section]
// headers, `key = value` entries, `;` comments, values quoted ("...") or
// bare (numbers, durations, true/false).

#include <optional>
#include <string>
#include <vector>

#include "messages/config_problem.hpp"

namespace athanor {

struct config_file_entry {
  /// "section.key", e.g. "athanor.breaker.failure-threshold".
  std::string option;
  /// Without its quotes, escapes resolved.
  std::string value;
  bool quoted = false;
  int line = 0;
};

/// The entries of `text`; each line that is neither a header, an entry, a
/// comment nor blank is a problem naming `file` and its line.
std::vector<config_file_entry>
parse_config_file(const std::string& text, const std::string& file,
                  std::vector<config_problem>& problems);

/// The whole file, or nullopt if it cannot be read.
std::optional<std::string> read_file(const std::string& path);

/// "line N of FILE".
std::string where_in(const std::string& file, int line);

/// The candidate nearest to `name` by edit distance, if it is close enough
/// to be a typo of it (at most a third of its length, and 3); else "".
std::string nearest_name(const std::string& name,
                         const std::vector<std::string>& candidates);

} // namespace athanor

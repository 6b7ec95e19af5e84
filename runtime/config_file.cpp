#include "runtime/config_file.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

namespace athanor {

namespace {

std::string trimmed(const std::string& x) {
  auto first = x.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  auto last = x.find_last_not_of(" \t\r");
  return x.substr(first, last - first + 1);
}

// The value part of an entry: a quoted string (with \" \\ \n \t escapes)
// or a bare word, then nothing but a comment. False if malformed.
bool read_value(const std::string& text, std::string& value, bool& quoted) {
  auto rest = trimmed(text);
  quoted = !rest.empty() && rest.front() == '"';
  if (!quoted) {
    auto comment = rest.find(';');
    value = trimmed(rest.substr(0, comment));
    return value.find('"') == std::string::npos;
  }
  value.clear();
  size_t i = 1;
  for (; i < rest.size() && rest[i] != '"'; ++i) {
    if (rest[i] == '\\' && i + 1 < rest.size()) {
      ++i;
      value += rest[i] == 'n' ? '\n' : rest[i] == 't' ? '\t' : rest[i];
    } else {
      value += rest[i];
    }
  }
  if (i >= rest.size())
    return false; // no closing quote
  auto after = trimmed(rest.substr(i + 1));
  return after.empty() || after.front() == ';';
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      auto up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

} // namespace

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::nullopt;
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

std::string where_in(const std::string& file, int line) {
  return "line " + std::to_string(line) + " of " + file;
}

std::vector<config_file_entry>
parse_config_file(const std::string& text, const std::string& file,
                  std::vector<config_problem>& problems) {
  std::vector<config_file_entry> result;
  std::string section;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    auto raw = text.substr(pos, nl == std::string::npos ? std::string::npos
                                                        : nl - pos);
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    auto line = trimmed(raw);
    if (line.empty() || line.front() == ';' || line.front() == '#')
      continue;
    if (line.front() == '[') {
      auto close = line.find(']');
      auto after = close == std::string::npos ? std::string{}
                                              : trimmed(line.substr(close + 1));
      if (close == std::string::npos || close == 1
          || (!after.empty() && after.front() != ';')) {
        problems.push_back({"config-file", where_in(file, line_no)
                                             + ": a section header is [name]"});
        continue;
      }
      section = trimmed(line.substr(1, close - 1));
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      problems.push_back({"config-file", where_in(file, line_no)
                                           + ": expected key = value, got '"
                                           + line + "'"});
      continue;
    }
    auto key = trimmed(line.substr(0, eq));
    config_file_entry entry;
    entry.option = section.empty() ? key : section + "." + key;
    entry.line = line_no;
    if (!read_value(line.substr(eq + 1), entry.value, entry.quoted)) {
      problems.push_back({entry.option, where_in(file, line_no)
                                          + ": malformed value (a string "
                                            "needs both its quotes)"});
      continue;
    }
    result.push_back(std::move(entry));
  }
  return result;
}

std::string nearest_name(const std::string& name,
                         const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::min<size_t>(3, std::max<size_t>(1, name.size() / 3));
  for (auto& c : candidates) {
    auto d = edit_distance(name, c);
    if (d <= best_distance && (best.empty() || d < best_distance)) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

} // namespace athanor

#include "observability/prometheus.hpp"

#include "observability/metric_help.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

namespace athanor {

namespace {

std::string sanitized(const std::string& name) {
  std::string result = name;
  for (auto& c : result)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'))
      c = '_';
  if (!result.empty() && std::isdigit(static_cast<unsigned char>(result[0])))
    result.insert(result.begin(), '_');
  return result;
}

std::string escaped(const std::string& value) {
  std::string result;
  for (auto c : value) {
    if (c == '\\')
      result += "\\\\";
    else if (c == '"')
      result += "\\\"";
    else if (c == '\n')
      result += "\\n";
    else
      result += c;
  }
  return result;
}

// The family a sample belongs to: a histogram's series share their base
// name, which the TYPE and HELP lines carry.
std::string family_of(const metric_sample& x, const std::string& name) {
  if (x.kind != metric_kind::histogram)
    return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (name.size() > s.size()
        && name.compare(name.size() - s.size(), s.size(), s) == 0)
      return name.substr(0, name.size() - s.size());
  }
  return name;
}

std::string number(double x) {
  if (std::isnan(x))
    return "NaN";
  if (std::isinf(x))
    return x > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

} // namespace

std::string to_prometheus(const metric_samples& xs) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const metric_sample*>> by_family;
  for (auto& x : xs) {
    auto family = family_of(x, sanitized(x.name));
    auto& group = by_family[family];
    if (group.empty())
      order.push_back(family);
    group.push_back(&x);
  }
  std::string out;
  for (auto& family : order) {
    auto& group = by_family[family];
    if (auto help = metric_help(family))
      out += "# HELP " + family + " " + help + "\n";
    out += "# TYPE " + family + " " + to_string(group.front()->kind) + "\n";
    for (auto* x : group) {
      out += sanitized(x->name);
      if (!x->labels.empty()) {
        out += '{';
        bool first = true;
        for (auto& [key, value] : x->labels) {
          if (!first)
            out += ',';
          first = false;
          out += sanitized(key) + "=\"" + escaped(value) + "\"";
        }
        out += '}';
      }
      out += ' ' + number(x->value) + '\n';
    }
  }
  return out;
}

} // namespace athanor

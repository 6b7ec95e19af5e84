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
  std::map<std::string, std::vector<const metric_sample*>> by_name;
  for (auto& x : xs) {
    auto name = sanitized(x.name);
    auto& group = by_name[name];
    if (group.empty())
      order.push_back(name);
    group.push_back(&x);
  }
  std::string out;
  for (auto& name : order) {
    auto& group = by_name[name];
    if (auto help = metric_help(name))
      out += "# HELP " + name + " " + help + "\n";
    out += "# TYPE " + name + " " + to_string(group.front()->kind) + "\n";
    for (auto* x : group) {
      out += name;
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

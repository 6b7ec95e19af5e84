#include "observability/process_metrics.hpp"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "caf/config.hpp"

namespace athanor {

namespace {

// Fields 14, 15 (utime, stime) and 22 (starttime) of /proc/self/stat, in
// clock ticks; the command name (field 2) may hold spaces, so count from
// its closing parenthesis.
bool read_stat(double& cpu_ticks, double& start_ticks) {
  std::ifstream in{"/proc/self/stat"};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return false;
  std::istringstream rest{text.substr(close + 2)};
  std::string field;
  double utime = 0;
  double stime = 0;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stod(field);
    else if (i == 15)
      stime = std::stod(field);
    else if (i == 22)
      start_ticks = std::stod(field);
  }
  cpu_ticks = utime + stime;
  return true;
}

// Seconds since the epoch at which the machine booted.
double boot_time() {
  std::ifstream in{"/proc/stat"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("btime ", 0) == 0)
      return std::stod(line.substr(6));
  return 0;
}

} // namespace

metric_samples process_metrics() {
  metric_samples result;
  auto gauge = [&](const char* name, double value) {
    result.push_back({name, metric_kind::gauge, {}, value});
  };
  auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double cpu = 0;
  double start = 0;
  if (ticks > 0 && read_stat(cpu, start)) {
    result.push_back(
      {"process_cpu_seconds_total", metric_kind::counter, {}, cpu / ticks});
    if (auto boot = boot_time(); boot > 0)
      gauge("process_start_time_seconds", boot + start / ticks);
  }
  std::ifstream statm{"/proc/self/statm"};
  double pages = 0;
  double resident = 0;
  if (statm >> pages >> resident)
    gauge("process_resident_memory_bytes",
          resident * static_cast<double>(sysconf(_SC_PAGESIZE)));
  if (auto dir = opendir("/proc/self/fd")) {
    double fds = 0;
    while (auto entry = readdir(dir))
      if (entry->d_name[0] != '.')
        ++fds;
    closedir(dir);
    gauge("process_open_fds", fds - 1); // the directory stream's own
  }
  result.push_back({"athanor_build_info",
                    metric_kind::gauge,
                    {{"version", ATHANOR_VERSION},
                     {"caf", std::to_string(CAF_VERSION / 10000) + "."
                               + std::to_string(CAF_VERSION / 100 % 100) + "."
                               + std::to_string(CAF_VERSION % 100)}},
                    1.0});
  return result;
}

} // namespace athanor

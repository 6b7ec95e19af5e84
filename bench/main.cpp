// athanor-bench: benchmarks that print figures beside a baseline measured in
// the same run. `athanor-bench decode|e2e|orders|remote|registry
// [--seconds=S]`.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench.hpp"

int main(int argc, char** argv) {
  athanor::bench::options opts;
  std::string which = argc > 1 ? argv[1] : "";
  for (int i = 2; i < argc; ++i)
    if (std::strncmp(argv[i], "--seconds=", 10) == 0)
      opts.seconds = std::atof(argv[i] + 10);
    else if (std::strncmp(argv[i], "--subscribers=", 14) == 0)
      opts.subscribers = static_cast<size_t>(std::atoi(argv[i] + 14));
  if (which == "decode")
    return athanor::bench::run_decode(opts);
  if (which == "e2e") {
    if (argc <= 2)
      opts.seconds = 3.0;
    return athanor::bench::run_e2e(opts);
  }
  if (which == "orders")
    return athanor::bench::run_orders(opts);
  if (which == "remote") {
    if (argc <= 2)
      opts.seconds = 2.0;
    return athanor::bench::run_remote(opts);
  }
  if (which == "registry")
    return athanor::bench::run_registry(opts);
  std::fprintf(stderr, "usage: athanor-bench decode|e2e|orders|remote|registry [--seconds=S] "
                       "[--subscribers=N]\n");
  return 64;
}

#pragma once

#include <chrono>
#include <cstddef>

namespace athanor::bench {

struct options {
  /// How long each figure is measured.
  double seconds = 1.0;
  /// e2e: only the plain saturation pass with this many subscribers (for
  /// profiling); 0 runs every pass.
  size_t subscribers = 0;
};

/// Calls `step(i)` for i = 0, 1, ... for about `seconds`; each call returns
/// how many messages it handled. Returns messages per second.
template<class F>
double measure(double seconds, F step) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now()
                  + std::chrono::duration_cast<clock::duration>(
                    std::chrono::duration<double>(seconds));
  size_t messages = 0;
  size_t i = 0;
  auto start = clock::now();
  auto now = start;
  // Check the clock every 64 steps so reading it costs nothing measurable.
  while (now < deadline) {
    for (int k = 0; k < 64; ++k)
      messages += step(i++);
    now = clock::now();
  }
  return static_cast<double>(messages)
         / std::chrono::duration<double>(now - start).count();
}

int run_decode(const options& opts);

int run_e2e(const options& opts);

int run_orders(const options& opts);

int run_remote(const options& opts);

int run_registry(const options& opts);

} // namespace athanor::bench

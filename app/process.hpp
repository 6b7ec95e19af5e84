#pragma once

// What the engine's commands share as processes: exit statuses (sysexits
// style) and the signal mask that hands SIGINT/SIGTERM to the main thread.

#include <csignal>

namespace athanor::exit_status {

constexpr int ok = 0;
/// A plan ended, but not every item filled.
constexpr int plan_failed = 2;
constexpr int data = 65;
constexpr int no_input = 66;
constexpr int unavailable = 69;
constexpr int software = 70;
constexpr int io = 74;
constexpr int no_permission = 77;
constexpr int config = 78;
constexpr int interrupted = 130;

} // namespace athanor::exit_status

namespace athanor {

/// Blocks SIGINT and SIGTERM for the calling thread and every thread it
/// starts afterwards; the main thread then takes them with sigtimedwait.
/// Call it before any other thread starts.
inline sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

} // namespace athanor

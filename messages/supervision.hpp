#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

namespace athanor {

/// When a supervisor restarts a child (OTP's terms).
enum class restart_policy : uint8_t {
  /// Always.
  permanent,
  /// Only after an abnormal exit.
  transient,
  /// Never.
  temporary,
};

/// Where a child is in its life.
enum class child_phase : uint8_t {
  running,
  /// Dead, waiting for its restart delay.
  restarting,
  /// Exited and not coming back.
  stopped,
};

std::string to_string(restart_policy x);
std::string to_string(child_phase x);

struct child_status {
  std::string id;
  restart_policy restart = restart_policy::permanent;
  child_phase phase = child_phase::running;
  uint32_t restarts = 0;
  /// The rendered exit reason of its last exit; empty if it never exited.
  std::string last_exit;
};

struct supervisor_status {
  std::string name;
  std::vector<child_status> children;
  uint32_t restarts_in_window = 0;
  uint64_t total_restarts = 0;
  bool shutting_down = false;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_status& x) {
  return f(caf::meta::type_name("athanor.child_status"), x.id, x.restart,
           x.phase, x.restarts, x.last_exit);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, supervisor_status& x) {
  return f(caf::meta::type_name("athanor.supervisor_status"), x.name,
           x.children, x.restarts_in_window, x.total_restarts, x.shutting_down);
}

} // namespace athanor

#pragma once

// A REST port for deterministic tests: it records every call; the test
// answers them by sending http_answer messages to the client.

#include <memory>
#include <vector>

#include "actors/trading/rest_port.hpp"
#include "messages/execution.hpp"

namespace athanor::testing {

struct recorded_call {
  transport::http_call call;
  uint64_t id = 0;
  caf::actor reply_to;
};

class fake_rest_port : public rest_port {
 public:
  void send(transport::http_call call, uint64_t id,
            caf::actor reply_to) override {
    calls.push_back({std::move(call), id, std::move(reply_to)});
  }

  /// Every call so far, oldest first; the test's script consumes them.
  std::vector<recorded_call> calls;
};

/// An answer with `status` and `body` to call `x`.
inline http_answer answer_to(const recorded_call& x, int status,
                             std::string body = "{}") {
  http_answer result;
  result.id = x.id;
  result.status = status;
  result.body = std::move(body);
  return result;
}

/// A failure (no response) to call `x`.
inline http_answer failure_of(const recorded_call& x, http_failure failure) {
  http_answer result;
  result.id = x.id;
  result.failure = failure;
  result.detail = "scripted";
  return result;
}

} // namespace athanor::testing

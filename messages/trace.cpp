#include "messages/trace.hpp"

#include <random>

namespace athanor {

std::string new_trace_id() {
  // Ids only need to be unique, not unpredictable; one engine per thread
  // avoids any shared state between actor threads.
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  auto bits = engine();
  std::string result(16, '0');
  for (auto& c : result) {
    c = hex[bits & 0x0f];
    bits >>= 4;
  }
  return result;
}

trace trace::root() {
  auto id = new_trace_id();
  return trace{id, correlation_id{id}, causation_id{}};
}

trace trace::root(std::string correlation) {
  return trace{new_trace_id(), correlation_id{std::move(correlation)},
               causation_id{}};
}

trace trace::caused() const {
  return trace{new_trace_id(), correlation, causation_id{id}};
}

bool operator==(const correlation_id& x, const correlation_id& y) {
  return x.value == y.value;
}

bool operator==(const causation_id& x, const causation_id& y) {
  return x.value == y.value;
}

bool operator==(const trace& x, const trace& y) {
  return x.id == y.id && x.correlation == y.correlation
         && x.causation == y.causation;
}

} // namespace athanor

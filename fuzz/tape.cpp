// Fuzz target: tape files (athanor replay, athanor-sim --replay-tape). A
// tape reads up to its first damaged record, which is named by an offset
// inside the input and at a record boundary; what came before re-encodes
// to exactly the bytes it was read from.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tape/tape.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace athanor;
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  auto read = read_tape(bytes);
  auto again = tape_header();
  for (auto& x : read.events)
    append_record(x, again);
  if (read.problem) {
    if (read.problem->message.empty() || read.problem->offset > size)
      std::abort();
    // The problem sits where the good records end.
    if (!read.events.empty() && read.problem->offset != again.size())
      std::abort();
  } else if (size >= tape_header_size && again != bytes) {
    std::abort();
  }
  if (!read.events.empty()
      && bytes.substr(tape_header_size, again.size() - tape_header_size)
           != std::string_view{again}.substr(tape_header_size))
    std::abort();
  return 0;
}

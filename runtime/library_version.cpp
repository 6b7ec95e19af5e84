// libathanor.so's own symbol: the version it was built as. Everything else
// in the library comes from the internal archives it links whole.

#include "athanor/version.hpp"

namespace athanor {

const char* library_version() {
  return ATHANOR_VERSION;
}

} // namespace athanor

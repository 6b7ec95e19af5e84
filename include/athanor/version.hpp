#pragma once

namespace athanor {

/// The version of the libathanor in use, e.g. "0.1.0".
const char* library_version();

} // namespace athanor

#pragma once

#include <string>

namespace athanor {

/// A listener's TLS material (PEM text, read from its configured files).
/// No certificate: the listener speaks plain http:// and ws://.
struct listener_pems {
  std::string certificate;
  std::string key;
  /// Set: clients must present a certificate that verifies against it.
  std::string client_ca;

  bool tls() const {
    return !certificate.empty();
  }
};

} // namespace athanor

#pragma once

// TLS material for servers: a self-signed certificate made at start, for
// the simulator and tests (a client trusts it by using it as its CA file).

#include <string>
#include <vector>

namespace athanor::transport {

struct pem_pair {
  std::string certificate;
  std::string private_key;
};

/// Makes a self-signed P-256 certificate valid for 30 days, for `names`
/// (DNS names or IPv4 addresses, the first also its common name).
/// Throws std::runtime_error if OpenSSL fails.
pem_pair make_self_signed(const std::vector<std::string>& names);

} // namespace athanor::transport

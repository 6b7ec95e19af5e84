#pragma once

// TLS material for servers: a self-signed certificate made at start, for
// the simulator and tests (a client trusts it by using it as its CA file).

#include <string>
#include <vector>

#include <openssl/types.h>

namespace athanor::transport {

struct pem_pair {
  std::string certificate;
  std::string private_key;
};

/// Makes a self-signed P-256 certificate valid for 30 days, for `names`
/// (DNS names or IPv4 addresses, the first also its common name).
/// Throws std::runtime_error if OpenSSL fails.
pem_pair make_self_signed(const std::vector<std::string>& names);

/// "sha256:AB:CD:…": the SHA-256 of the certificate's DER encoding, the
/// form `openssl x509 -fingerprint -sha256` prints (with its prefix).
std::string certificate_fingerprint(X509* cert);

/// The fingerprint of the first certificate in `pem`, or "" if it holds none.
std::string certificate_fingerprint(const std::string& pem);

/// The subject of the first certificate in `pem` in OpenSSL's one-line
/// RFC 2253 form ("CN=desk-1,O=Example"), or "" if it holds none.
std::string certificate_subject(const std::string& pem);

/// Why `pem` is not a usable certificate (chain) and private key for a
/// server, or "" when it is: no certificate, no key, or a key that does not
/// belong to the certificate. `key_pem` empty: only the certificate.
std::string pem_problem(const std::string& certificate_pem,
                        const std::string& key_pem);

/// `bytes` random bytes from OpenSSL's generator, as lower-case hex.
std::string random_hex(size_t bytes);

/// Signs `message` (SHA-256) with the PEM private key; the signature as hex,
/// or "" if the key is unusable.
std::string sign_message(const std::string& key_pem,
                         const std::string& message);

/// What a certificate proof showed: who it is, and why it fails if it does.
struct certificate_proof {
  std::string fingerprint;
  std::string subject;
  /// "" when the certificate verifies against the CAs and signed `message`.
  std::string problem;
};

/// Checks that `certificate_pem` verifies against `ca_pem` (its chain) and
/// that `signature_hex` is its key's signature of `message`.
certificate_proof check_signature(const std::string& certificate_pem,
                                  const std::string& ca_pem,
                                  const std::string& message,
                                  const std::string& signature_hex);

} // namespace athanor::transport

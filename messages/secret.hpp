#pragma once

#include <iosfwd>
#include <string>

#include "caf/meta/type_name.hpp"

namespace athanor {

/// A credential that cannot be printed. Every printing path (streams,
/// `to_string`, CAF's `deep_to_string`, logs) renders it as `***`; logs, map
/// keys, metrics and health output use `fingerprint()` instead.
class secret {
 public:
  secret() = default;

  explicit secret(std::string value);

  secret(const secret&) = default;
  secret(secret&&) noexcept = default;
  secret& operator=(const secret&) = default;
  secret& operator=(secret&&) noexcept = default;

  /// Overwrites the credential's memory before releasing it.
  ~secret();

  /// Returns the credential itself. Only code that puts it on the wire calls
  /// this; grep for `reveal()` to audit every use.
  const std::string& reveal() const noexcept {
    return value_;
  }

  /// Returns the first 8 hex digits of the credential's SHA-256, or an empty
  /// string for an empty secret.
  const std::string& fingerprint() const noexcept {
    return fingerprint_;
  }

  bool empty() const noexcept {
    return value_.empty();
  }

  /// Compares in constant time.
  friend bool operator==(const secret& x, const secret& y) noexcept;

  friend bool operator!=(const secret& x, const secret& y) noexcept {
    return !(x == y);
  }

 private:
  std::string value_;
  std::string fingerprint_;
};

/// Returns "***" (or "" for an empty secret).
std::string to_string(const secret& x);

/// Writes "***" (or nothing for an empty secret).
std::ostream& operator<<(std::ostream& out, const secret& x);

/// Serializes only the mask: a secret never leaves the process, and a
/// deserialized secret is empty.
template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, secret& x) {
  std::string masked = to_string(x);
  return f(caf::meta::type_name("athanor.secret"), masked);
}

/// An API key pair. The key id is treated as secret too: the audited system
/// leaked it through logs and map keys.
struct credentials {
  secret key_id;
  secret secret_key;

  /// Returns the fingerprint that identifies these credentials in keys,
  /// logs and health output.
  const std::string& fingerprint() const noexcept {
    return key_id.fingerprint();
  }

  bool empty() const noexcept {
    return key_id.empty() && secret_key.empty();
  }
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, credentials& x) {
  return f(caf::meta::type_name("athanor.credentials"), x.key_id, x.secret_key);
}

/// Returns the lowercase hex SHA-256 of `data`.
std::string sha256_hex(const std::string& data);

} // namespace athanor

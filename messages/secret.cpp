#include "messages/secret.hpp"

#include <ostream>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace athanor {

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string result;
  result.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    result += hex[digest[i] >> 4];
    result += hex[digest[i] & 0x0f];
  }
  return result;
}

secret::secret(std::string value) : value_(std::move(value)) {
  if (!value_.empty())
    fingerprint_ = sha256_hex(value_).substr(0, 8);
}

secret::~secret() {
  if (!value_.empty())
    OPENSSL_cleanse(value_.data(), value_.size());
}

bool operator==(const secret& x, const secret& y) noexcept {
  return x.value_.size() == y.value_.size()
         && CRYPTO_memcmp(x.value_.data(), y.value_.data(), x.value_.size())
              == 0;
}

std::string to_string(const secret& x) {
  return x.empty() ? std::string{} : std::string{"***"};
}

std::ostream& operator<<(std::ostream& out, const secret& x) {
  return out << to_string(x);
}

} // namespace athanor

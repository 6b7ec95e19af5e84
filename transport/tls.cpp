#include "transport/tls.hpp"

#include <memory>
#include <stdexcept>

#include <arpa/inet.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace athanor::transport {

namespace {

template<class T, void (*Free)(T*)>
struct deleter {
  void operator()(T* x) const {
    Free(x);
  }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO, BIO_free_all>>;
using md_ctx_ptr
  = std::unique_ptr<EVP_MD_CTX, deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using store_ptr
  = std::unique_ptr<X509_STORE, deleter<X509_STORE, X509_STORE_free>>;
using store_ctx_ptr
  = std::unique_ptr<X509_STORE_CTX,
                    deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

// Lower-case and unseparated for signatures and nonces; a fingerprint is
// upper case with colons, as `openssl x509 -fingerprint` prints it.
std::string to_hex(const unsigned char* data, size_t size, bool upper = false,
                   char separator = 0) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string result;
  result.reserve(size * 3);
  for (size_t i = 0; i < size; ++i) {
    if (i > 0 && separator != 0)
      result += separator;
    result += digits[data[i] >> 4];
    result += digits[data[i] & 0xF];
  }
  return result;
}

bool from_hex(const std::string& text, std::vector<unsigned char>& out) {
  if (text.size() % 2 != 0)
    return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  out.clear();
  for (size_t i = 0; i < text.size(); i += 2) {
    auto hi = nibble(text[i]);
    auto lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out.push_back(static_cast<unsigned char>(hi * 16 + lo));
  }
  return true;
}

void check(bool ok, const char* what) {
  if (!ok)
    throw std::runtime_error(std::string{"self-signed certificate: "} + what);
}

std::string to_string(BIO* bio) {
  char* data = nullptr;
  auto size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

bool is_ipv4(const std::string& x) {
  in_addr addr;
  return inet_pton(AF_INET, x.c_str(), &addr) == 1;
}

pkey_ptr private_key(const std::string& pem) {
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio)
    return nullptr;
  return pkey_ptr{PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr,
                                          nullptr)};
}

std::string subject_of(X509* cert) {
  bio_ptr out{BIO_new(BIO_s_mem())};
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_RFC2253);
  return to_string(out.get());
}

x509_ptr first_certificate(const std::string& pem) {
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio)
    return nullptr;
  return x509_ptr{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
}

} // namespace

std::string certificate_fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), md, &size) != 1)
    return {};
  return "sha256:" + to_hex(md, size, true, ':');
}

std::string certificate_fingerprint(const std::string& pem) {
  auto cert = first_certificate(pem);
  return cert ? certificate_fingerprint(cert.get()) : std::string{};
}

std::string certificate_subject(const std::string& pem) {
  auto cert = first_certificate(pem);
  return cert ? subject_of(cert.get()) : std::string{};
}

std::string pem_problem(const std::string& certificate_pem,
                        const std::string& key_pem) {
  auto cert = first_certificate(certificate_pem);
  if (!cert)
    return "holds no PEM certificate";
  if (key_pem.empty())
    return {};
  auto key = private_key(key_pem);
  if (!key)
    return "holds no PEM private key (or one protected by a passphrase)";
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return "is not the private key of the certificate";
  return {};
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return to_hex(buf.data(), buf.size());
}

std::string sign_message(const std::string& key_pem,
                         const std::string& message) {
  auto key = private_key(key_pem);
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  if (!key || !ctx
      || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                            key.get())
           != 1)
    return {};
  size_t size = 0;
  auto data = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &size, data, message.size()) != 1)
    return {};
  std::vector<unsigned char> sig(size);
  if (EVP_DigestSign(ctx.get(), sig.data(), &size, data, message.size()) != 1)
    return {};
  return to_hex(sig.data(), size);
}

certificate_proof check_signature(const std::string& certificate_pem,
                                  const std::string& ca_pem,
                                  const std::string& message,
                                  const std::string& signature_hex) {
  certificate_proof result;
  auto cert = first_certificate(certificate_pem);
  if (!cert) {
    result.problem = "no certificate given";
    return result;
  }
  result.fingerprint = certificate_fingerprint(cert.get());
  result.subject = subject_of(cert.get());
  // The chain: every certificate in ca_pem is a trust anchor.
  store_ptr store{X509_STORE_new()};
  bio_ptr ca_bio{BIO_new_mem_buf(ca_pem.data(),
                                 static_cast<int>(ca_pem.size()))};
  size_t anchors = 0;
  while (auto ca = PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr,
                                     nullptr)) {
    X509_STORE_add_cert(store.get(), ca);
    X509_free(ca);
    ++anchors;
  }
  store_ctx_ptr verify{X509_STORE_CTX_new()};
  if (anchors == 0) {
    result.problem = "no CA to verify the certificate against";
    return result;
  }
  X509_STORE_CTX_init(verify.get(), store.get(), cert.get(), nullptr);
  if (X509_verify_cert(verify.get()) != 1) {
    result.problem = std::string{"certificate does not verify: "}
                     + X509_verify_cert_error_string(
                       X509_STORE_CTX_get_error(verify.get()));
    return result;
  }
  std::vector<unsigned char> sig;
  if (!from_hex(signature_hex, sig) || sig.empty()) {
    result.problem = "signature is not hex";
    return result;
  }
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  auto data = reinterpret_cast<const unsigned char*>(message.data());
  if (!ctx
      || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                              X509_get0_pubkey(cert.get()))
           != 1
      || EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data,
                          message.size())
           != 1)
    result.problem = "signature does not match the certificate's key";
  return result;
}

pem_pair make_self_signed(const std::vector<std::string>& names) {
  check(!names.empty(), "no names");
  pkey_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  check(key != nullptr, "key generation failed");
  x509_ptr cert{X509_new()};
  check(cert != nullptr, "X509_new failed");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  auto name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
    name, "CN", MBSTRING_ASC,
    reinterpret_cast<const unsigned char*>(names.front().c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  // A CA that is its own issuer, so clients can trust it as their CA file.
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string alt;
  for (auto& n : names)
    alt += (alt.empty() ? "" : ",") + std::string{is_ipv4(n) ? "IP:" : "DNS:"}
           + n;
  for (auto [nid, value] :
       {std::pair{NID_subject_alt_name, alt},
        {NID_basic_constraints, std::string{"critical,CA:TRUE"}},
        {NID_key_usage,
         std::string{"critical,digitalSignature,keyCertSign"}}}) {
    auto ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr, "extension");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signing failed");
  bio_ptr cert_bio{BIO_new(BIO_s_mem())};
  bio_ptr key_bio{BIO_new(BIO_s_mem())};
  check(PEM_write_bio_X509(cert_bio.get(), cert.get()) == 1, "PEM cert");
  check(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0,
                                 nullptr, nullptr)
          == 1,
        "PEM key");
  return {to_string(cert_bio.get()), to_string(key_bio.get())};
}

} // namespace athanor::transport

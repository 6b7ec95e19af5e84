#include "transport/tls.hpp"

#include <memory>
#include <stdexcept>

#include <arpa/inet.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
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

} // namespace

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

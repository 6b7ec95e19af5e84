#pragma once

// What the WebSocket and HTTP clients share: URL parsing and the trust
// store of a TLS client. For transport/*.cpp only (pulls in Asio SSL).

#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/system_error.hpp>

namespace athanor::transport::detail {

struct url_parts {
  bool tls = false;
  std::string host;
  std::string port;
  /// Path and query; "/" when the URL has none.
  std::string target;
};

/// Parses `secure_scheme://host[:port][/target]` (tls) or
/// `plain_scheme://...`; IPv6 hosts in brackets. nullopt for anything else.
inline std::optional<url_parts> parse_url(const std::string& url,
                                          const std::string& secure_scheme,
                                          const std::string& plain_scheme) {
  url_parts result;
  std::string rest;
  auto secure = secure_scheme + "://";
  auto plain = plain_scheme + "://";
  if (url.rfind(secure, 0) == 0) {
    result.tls = true;
    rest = url.substr(secure.size());
  } else if (url.rfind(plain, 0) == 0) {
    rest = url.substr(plain.size());
  } else {
    return std::nullopt;
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  result.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  auto bracket = authority.rfind(']');
  if (colon != std::string::npos
      && (bracket == std::string::npos || colon > bracket)) {
    result.host = authority.substr(0, colon);
    result.port = authority.substr(colon + 1);
  } else {
    result.host = authority;
    result.port = result.tls ? "443" : "80";
  }
  if (!result.host.empty() && result.host.front() == '[')
    result.host = result.host.substr(1, result.host.size() - 2);
  if (result.host.empty() || result.port.empty())
    return std::nullopt;
  return result;
}

/// Sets up a client context: TLS 1.2 or newer, the system's trust store plus
/// `ca_file` and `ca_pem` (either may be empty). Returns an error text, or
/// "" on success.
inline std::string trust(boost::asio::ssl::context& ctx,
                         const std::string& ca_file,
                         const std::string& ca_pem) {
  namespace ssl = boost::asio::ssl;
  try {
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                    | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                    | ssl::context::no_tlsv1_1);
    ctx.set_default_verify_paths();
    if (!ca_file.empty())
      ctx.load_verify_file(ca_file);
    if (!ca_pem.empty())
      ctx.add_certificate_authority(boost::asio::buffer(ca_pem));
  } catch (const boost::system::system_error& e) {
    return e.what();
  }
  return {};
}

} // namespace athanor::transport::detail

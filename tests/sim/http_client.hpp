#pragma once

// One HTTP request to 127.0.0.1 for integration tests, with a deadline.

#include <cstdint>
#include <map>
#include <string>

namespace athanor::testing {

struct http_result {
  /// 0 if no response came in time.
  int status = 0;
  /// Header names in lower case.
  std::map<std::string, std::string> headers;
  std::string body;
};

http_result http_call(uint16_t port, const std::string& method,
                      const std::string& target, const std::string& body = "",
                      const std::map<std::string, std::string>& headers = {});

/// The same over TLS, trusting only `ca_pem` for the name "localhost".
http_result https_call(uint16_t port, const std::string& ca_pem,
                       const std::string& method, const std::string& target,
                       const std::map<std::string, std::string>& headers = {});

} // namespace athanor::testing

#include "http_client.hpp"

#include <chrono>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace athanor::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

http_result http_call(uint16_t port, const std::string& method,
                      const std::string& target, const std::string& body,
                      const std::map<std::string, std::string>& headers) {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  http::request<http::string_body> req{http::string_to_verb(method), target,
                                       11};
  req.set(http::field::host, "127.0.0.1");
  for (auto& [name, value] : headers)
    req.set(name, value);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  http_result result;
  stream.expires_after(std::chrono::seconds{5});
  stream.async_connect(
    tcp::endpoint{net::ip::make_address("127.0.0.1"), port},
    [&](beast::error_code ec) {
      if (ec)
        return;
      http::async_write(stream, req, [&](beast::error_code ec, size_t) {
        if (ec)
          return;
        http::async_read(stream, buffer, res,
                         [&](beast::error_code ec, size_t) {
                           if (ec)
                             return;
                           result.status = static_cast<int>(res.result_int());
                           result.body = res.body();
                           for (auto& field : res) {
                             std::string name{field.name_string()};
                             for (auto& c : name)
                               c = static_cast<char>(
                                 std::tolower(static_cast<unsigned char>(c)));
                             result.headers[name] = std::string{field.value()};
                           }
                         });
      });
    });
  ioc.run();
  return result;
}

} // namespace athanor::testing

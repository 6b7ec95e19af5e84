#include "http_client.hpp"

#include <chrono>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace athanor::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

template<class Stream>
http_result call(net::io_context& ioc, Stream& stream, uint16_t port, const std::string& method,
                 const std::string& target, const std::string& body,
                 const std::map<std::string, std::string>& headers) {
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
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(std::chrono::seconds{5});
  auto exchange = [&] {
    http::async_write(stream, req, [&](beast::error_code ec, size_t) {
      if (ec)
        return;
      http::async_read(stream, buffer, res, [&](beast::error_code ec, size_t) {
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
  };
  tcp_layer.async_connect(
    tcp::endpoint{net::ip::make_address("127.0.0.1"), port},
    [&](beast::error_code ec) {
      if (ec)
        return;
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        exchange();
      } else {
        stream.async_handshake(net::ssl::stream_base::client,
                               [&](beast::error_code ec) {
                                 if (!ec)
                                   exchange();
                               });
      }
    });
  ioc.run();
  return result;
}

} // namespace

http_result http_call(uint16_t port, const std::string& method,
                      const std::string& target, const std::string& body,
                      const std::map<std::string, std::string>& headers) {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  return call(ioc, stream, port, method, target, body, headers);
}

http_result https_call(uint16_t port, const std::string& ca_pem,
                       const std::string& method, const std::string& target,
                       const std::map<std::string, std::string>& headers) {
  net::io_context ioc;
  net::ssl::context ctx{net::ssl::context::tls_client};
  ctx.set_verify_mode(net::ssl::verify_peer);
  ctx.add_certificate_authority(net::buffer(ca_pem));
  beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.set_verify_callback(net::ssl::host_name_verification("localhost"));
  return call(ioc, stream, port, method, target, "", headers);
}

} // namespace athanor::testing

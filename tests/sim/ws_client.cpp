#include "ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace athanor::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct ws_client::impl {
  net::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buffer;
  int status = 0;
  bool open = false;
  bool deflated = false;
};

ws_client::ws_client(uint16_t port, const std::string& path,
                     std::map<std::string, std::string> headers, bool deflate)
    : impl_(std::make_unique<impl>()) {
  auto& ws = impl_->ws;
  ws.next_layer().connect(
    tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  ws.set_option(
    websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (auto& [name, value] : headers)
        req.set(name, value);
    }));
  if (deflate) {
    websocket::permessage_deflate pmd;
    pmd.client_enable = true;
    ws.set_option(pmd);
  }
  // Beast 1.74's synchronous handshake returns on a declined upgrade before
  // it copies the response out; the asynchronous one keeps it.
  websocket::response_type res;
  beast::error_code ec = net::error::timed_out;
  ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), path,
                     [&ec](beast::error_code result) { ec = result; });
  impl_->ioc.run_for(std::chrono::seconds{5});
  impl_->ioc.restart();
  impl_->status = static_cast<int>(res.result_int());
  impl_->open = !ec;
  impl_->deflated = res[http::field::sec_websocket_extensions].find(
                      "permessage-deflate")
                    != beast::string_view::npos;
}

ws_client::~ws_client() {
  if (impl_->open) {
    beast::error_code ec;
    impl_->ws.next_layer().close(ec);
  }
}

bool ws_client::open() const {
  return impl_->open;
}

int ws_client::status() const {
  return impl_->status;
}

bool ws_client::deflated() const {
  return impl_->deflated;
}

std::optional<ws_frame> ws_client::read(std::chrono::milliseconds timeout) {
  if (!impl_->open)
    return std::nullopt;
  auto& ioc = impl_->ioc;
  impl_->buffer.clear();
  bool done = false;
  beast::error_code ec;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code result, size_t) {
    ec = result;
    done = true;
  });
  ioc.restart();
  ioc.run_for(timeout);
  if (!done) {
    // Deadline: cancel the read and let it finish before giving up.
    beast::error_code ignored;
    impl_->ws.next_layer().cancel(ignored);
    ioc.restart();
    ioc.run();
  }
  ioc.restart();
  if (!done || ec) {
    // A timeout leaves Beast's stream unusable too: either way we are done.
    impl_->open = false;
    return std::nullopt;
  }
  return ws_frame{beast::buffers_to_string(impl_->buffer.data()),
                  impl_->ws.got_binary()};
}

void ws_client::send(const std::string& data, bool binary) {
  impl_->ws.binary(binary);
  beast::error_code ec;
  impl_->ws.write(net::buffer(data), ec);
}

bool ws_client::ping(std::chrono::milliseconds timeout) {
  bool pong = false;
  impl_->ws.control_callback(
    [&pong](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong)
        pong = true;
    });
  beast::error_code ec;
  impl_->ws.ping({}, ec);
  if (ec)
    return false;
  // Read until the pong shows up (data frames in between are dropped).
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pong && std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (!read(std::max(left, std::chrono::milliseconds{1})))
      break;
  }
  impl_->ws.control_callback();
  return pong;
}

void ws_client::close() {
  beast::error_code ec;
  impl_->ws.close(websocket::close_code::normal, ec);
  impl_->open = false;
}

void ws_client::reset() {
  beast::error_code ec;
  auto& socket = impl_->ws.next_layer();
  socket.set_option(net::socket_base::linger(true, 0), ec);
  socket.close(ec);
  impl_->open = false;
}

} // namespace athanor::testing

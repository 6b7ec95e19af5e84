#include "ws_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace athanor::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct ws_client::impl {
  virtual ~impl() = default;
  virtual std::optional<ws_frame> read(std::chrono::milliseconds timeout) = 0;
  virtual void send(const std::string& data, bool binary) = 0;
  virtual bool ping(std::chrono::milliseconds timeout) = 0;
  virtual void close() = 0;
  virtual void reset() = 0;
  int status = 0;
  bool open = false;
  bool deflated = false;
};

namespace {

using plain_ws = websocket::stream<tcp::socket>;
using tls_ws = websocket::stream<ssl::stream<tcp::socket>>;

template<class Ws>
struct impl_t : ws_client::impl {
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<Ws> ws;
  beast::flat_buffer buffer;

  // Runs the io_context until `done` or the deadline; cancels on timeout.
  bool run(bool& done, std::chrono::milliseconds timeout) {
    ioc.restart();
    ioc.run_for(timeout);
    if (!done) {
      beast::error_code ignored;
      beast::get_lowest_layer(*ws).cancel(ignored);
      ioc.restart();
      ioc.run();
    }
    ioc.restart();
    return done;
  }

  void connect(uint16_t port, const std::string& path,
               const ws_client_options& opts) {
    if constexpr (std::is_same_v<Ws, tls_ws>) {
      ctx.set_verify_mode(ssl::verify_peer);
      ctx.add_certificate_authority(net::buffer(opts.tls_ca_pem));
      if (!opts.tls_client_certificate_pem.empty()) {
        ctx.use_certificate_chain(
          net::buffer(opts.tls_client_certificate_pem));
        ctx.use_private_key(net::buffer(opts.tls_client_key_pem),
                            ssl::context::pem);
      }
      ws = std::make_unique<Ws>(ioc, ctx);
      SSL_set_tlsext_host_name(ws->next_layer().native_handle(),
                               opts.tls_host.c_str());
      ws->next_layer().set_verify_callback(
        ssl::host_name_verification(opts.tls_host));
    } else {
      ws = std::make_unique<Ws>(ioc);
    }
    beast::error_code ec;
    if (opts.receive_buffer > 0) {
      auto& socket = beast::get_lowest_layer(*ws);
      socket.open(tcp::v4(), ec);
      socket.set_option(
        net::socket_base::receive_buffer_size(opts.receive_buffer), ec);
    }
    beast::get_lowest_layer(*ws).connect(
      tcp::endpoint{net::ip::make_address("127.0.0.1"), port}, ec);
    if (ec)
      return;
    if constexpr (std::is_same_v<Ws, tls_ws>) {
      bool done = false;
      ws->next_layer().async_handshake(ssl::stream_base::client,
                                       [&](beast::error_code result) {
                                         ec = result;
                                         done = true;
                                       });
      if (!run(done, std::chrono::seconds{5}) || ec)
        return;
    }
    ws->set_option(websocket::stream_base::decorator(
      [headers = opts.headers](websocket::request_type& req) {
        for (auto& [name, value] : headers)
          req.set(name, value);
      }));
    if (opts.deflate) {
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      ws->set_option(pmd);
    }
    // Beast 1.74's synchronous handshake returns on a declined upgrade
    // before it copies the response out; the asynchronous one keeps it.
    websocket::response_type res;
    bool done = false;
    ws->async_handshake(res, opts.tls_host + ":" + std::to_string(port), path,
                        [&](beast::error_code result) {
                          ec = result;
                          done = true;
                        });
    run(done, std::chrono::seconds{5});
    status = static_cast<int>(res.result_int());
    if (!done)
      status = 0;
    open = done && !ec;
    deflated = res[http::field::sec_websocket_extensions].find(
                 "permessage-deflate")
               != beast::string_view::npos;
  }

  std::optional<ws_frame> read(std::chrono::milliseconds timeout) override {
    if (!open)
      return std::nullopt;
    buffer.clear();
    bool done = false;
    beast::error_code ec;
    ws->async_read(buffer, [&](beast::error_code result, size_t) {
      ec = result;
      done = true;
    });
    if (!run(done, timeout) || ec) {
      // A timeout leaves Beast's stream unusable too: either way, done.
      open = false;
      return std::nullopt;
    }
    return ws_frame{beast::buffers_to_string(buffer.data()), ws->got_binary()};
  }

  void send(const std::string& data, bool binary) override {
    ws->binary(binary);
    beast::error_code ec;
    ws->write(net::buffer(data), ec);
  }

  bool ping(std::chrono::milliseconds timeout) override {
    bool pong = false;
    ws->control_callback(
      [&pong](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::pong)
          pong = true;
      });
    beast::error_code ec;
    ws->ping({}, ec);
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
    ws->control_callback();
    return pong;
  }

  void close() override {
    beast::error_code ec;
    ws->close(websocket::close_code::normal, ec);
    open = false;
  }

  void reset() override {
    beast::error_code ec;
    auto& socket = beast::get_lowest_layer(*ws);
    socket.set_option(net::socket_base::linger(true, 0), ec);
    socket.close(ec);
    open = false;
  }
};

} // namespace

ws_client::ws_client(uint16_t port, const std::string& path,
                     ws_client_options opts) {
  if (opts.tls_ca_pem.empty()) {
    auto x = std::make_unique<impl_t<plain_ws>>();
    x->connect(port, path, opts);
    impl_ = std::move(x);
  } else {
    auto x = std::make_unique<impl_t<tls_ws>>();
    x->connect(port, path, opts);
    impl_ = std::move(x);
  }
}

ws_client::ws_client(uint16_t port, const std::string& path,
                     std::map<std::string, std::string> headers, bool deflate)
    : ws_client(port, path,
                [&] {
                  ws_client_options opts;
                  opts.headers = std::move(headers);
                  opts.deflate = deflate;
                  return opts;
                }()) {}

ws_client::~ws_client() = default;

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
  return impl_->read(timeout);
}

void ws_client::send(const std::string& data, bool binary) {
  impl_->send(data, binary);
}

bool ws_client::ping(std::chrono::milliseconds timeout) {
  return impl_->ping(timeout);
}

void ws_client::close() {
  impl_->close();
}

void ws_client::reset() {
  impl_->reset();
}

} // namespace athanor::testing

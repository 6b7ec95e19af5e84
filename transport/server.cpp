#include "transport/server.hpp"

#include <algorithm>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <deque>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "transport/tls.hpp"

namespace athanor::transport {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

ws_connection::~ws_connection() = default;
ws_handler::~ws_handler() = default;

const std::string& http_request::header(const std::string& lower_name) const {
  static const std::string none;
  auto i = headers.find(lower_name);
  return i == headers.end() ? none : i->second;
}

http_response json_response(int status, std::string body) {
  http_response res;
  res.status = status;
  res.headers["Content-Type"] = "application/json";
  res.body = std::move(body);
  return res;
}

std::string http_request::path() const {
  return target.substr(0, target.find('?'));
}

namespace {

// Decodes %XX escapes and '+' (a space in a query).
std::string percent_decode(const std::string& x) {
  std::string result;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == '%' && i + 2 < x.size() && std::isxdigit(x[i + 1])
        && std::isxdigit(x[i + 2])) {
      result += static_cast<char>(std::stoi(x.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      result += x[i] == '+' ? ' ' : x[i];
    }
  }
  return result;
}

} // namespace

std::string http_request::query(const std::string& name) const {
  auto q = target.find('?');
  if (q == std::string::npos)
    return {};
  auto rest = target.substr(q + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    auto end = rest.find('&', pos);
    auto pair = rest.substr(pos, end == std::string::npos ? std::string::npos
                                                          : end - pos);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return eq == std::string::npos ? std::string{}
                                     : percent_decode(pair.substr(eq + 1));
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  return {};
}

struct server::impl {
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::ssl::context ssl{net::ssl::context::tls_server};
  bool tls = false;
  std::atomic<bool> refuse_tls{false};
  server_callbacks callbacks;
  std::string server_name;
  std::chrono::nanoseconds close_timeout{0};
  std::atomic<uint64_t> next_id{1};
  // Server thread only.
  std::unordered_map<timer_id, std::shared_ptr<net::steady_timer>> timers;
  /// Stalled sessions have no operation pending to keep them alive; held
  /// here so their sockets stay open (and silent) until reset or stop.
  std::vector<std::shared_ptr<ws_connection>> stalled;
  /// Every WebSocket session, so stop() can end them while the I/O loop
  /// still runs: destroying a session from inside ~io_context (as the last
  /// owner of a pending operation goes) corrupted memory.
  std::vector<std::weak_ptr<ws_connection>> sessions;
  std::thread thread;
  bool stopped = false;
  /// Late answers (on_http_async) reach the I/O loop through this gate;
  /// stop() closes it, so an answer after the server is gone is dropped.
  struct post_gate {
    std::mutex mtx;
    net::io_context* ioc = nullptr;
  };
  std::shared_ptr<post_gate> gate = std::make_shared<post_gate>();
  /// HTTP sessions waiting for an asynchronous answer.
  std::unordered_map<uint64_t, std::shared_ptr<void>> pending_http;

  void accept();
};

namespace {

http_request to_request(const http::request<http::string_body>& req) {
  http_request result;
  result.method = std::string{req.method_string()};
  result.target = std::string{req.target()};
  for (auto& field : req) {
    std::string name{field.name_string()};
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    result.headers[name] = std::string{field.value()};
  }
  result.body = req.body();
  return result;
}

// "sha256:AB:CD:…" of the peer's certificate, or "" without one.
std::string peer_fingerprint(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr)
    return {};
  auto result = certificate_fingerprint(cert);
  X509_free(cert);
  return result;
}

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

template<class Stream>
class ws_session : public ws_connection,
                   public std::enable_shared_from_this<ws_session<Stream>> {
 public:
  using std::enable_shared_from_this<ws_session<Stream>>::shared_from_this;

  ws_session(Stream&& stream, std::shared_ptr<ws_handler> handler, uint64_t id,
             server::impl& srv)
      : ws_(std::move(stream)), handler_(std::move(handler)), id_(id),
        srv_(srv), close_timer_(srv.ioc) {}

  void start(http::request<http::string_body> req, bool deflate) {
    auto& all = srv_.sessions;
    all.erase(std::remove_if(all.begin(), all.end(),
                             [](auto& x) { return x.expired(); }),
              all.end());
    all.push_back(shared_from_this());
    websocket::permessage_deflate pmd;
    pmd.server_enable = deflate;
    ws_.set_option(pmd);
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(
      websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) {
      self->on_accept(ec);
    });
  }

  void send(std::string frame, bool binary) override {
    if (closed_ || closing_)
      return;
    queued_ += frame.size();
    queue_.emplace_back(std::move(frame), binary);
    if (!writing_)
      do_write();
  }

  void close(uint16_t code) override {
    if (closed_ || closing_)
      return;
    closing_ = true;
    close_code_ = code;
    close_timer_.expires_after(srv_.close_timeout);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && !self->closed_)
        self->reset(); // the peer did not answer in time
    });
    if (!writing_)
      do_write();
  }

  void reset() override {
    if (closed_)
      return;
    auto& socket = beast::get_lowest_layer(ws_).socket();
    beast::error_code ec;
    socket.set_option(net::socket_base::linger(true, 0), ec);
    socket.close(ec);
    if (stalled_fd_ >= 0) {
      ::linger abort{1, 0};
      ::setsockopt(stalled_fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
      ::close(stalled_fd_);
      stalled_fd_ = -1;
    }
    finish(false);
    if (stalled_) {
      auto& xs = srv_.stalled;
      xs.erase(std::remove(xs.begin(), xs.end(), shared_from_this()), xs.end());
    }
  }

  void stall() override {
    if (closed_ || stalled_)
      return;
    stalled_ = true;
    srv_.stalled.push_back(shared_from_this());
    // Cancelling is not enough: a composed read whose next step is already
    // queued would go on answering pings. Keep a duplicate of the socket and
    // close Asio's: every operation ends, while the duplicate holds the TCP
    // connection open and silent until reset or stop.
    auto& socket = beast::get_lowest_layer(ws_).socket();
    stalled_fd_ = ::dup(socket.native_handle());
    beast::error_code ec;
    socket.close(ec);
  }

  ~ws_session() override {
    if (stalled_fd_ >= 0)
      ::close(stalled_fd_);
  }

  size_t queued_bytes() const override {
    return queued_;
  }

  uint64_t id() const override {
    return id_;
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec)
      return;
    opened_ = true;
    handler_->on_open(shared_from_this());
    do_read();
  }

  void do_read() {
    if (stalled_ || closed_)
      return;
    ws_.async_read(buffer_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->on_read(ec);
                   });
  }

  void on_read(beast::error_code ec) {
    if (stalled_)
      return;
    if (ec) {
      finish(ec == websocket::error::closed);
      return;
    }
    auto frame = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    handler_->on_message(shared_from_this(), std::move(frame),
                         ws_.got_binary());
    do_read();
  }

  void do_write() {
    if (stalled_ || closed_)
      return;
    if (queue_.empty()) {
      if (closing_ && !close_sent_) {
        close_sent_ = true;
        ws_.async_close(websocket::close_reason(close_code_),
                        [self = shared_from_this()](beast::error_code ec) {
                          if (ec)
                            self->finish(false);
                        });
      }
      return;
    }
    writing_ = true;
    ws_.binary(queue_.front().second);
    ws_.async_write(net::buffer(queue_.front().first),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->on_write(ec);
                    });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    // A write that completed just as reset() or a fault finished the session
    // finds its queue cleared: nothing to pop.
    if (stalled_ || closed_)
      return;
    if (ec) {
      finish(false);
      return;
    }
    queued_ -= queue_.front().first.size();
    queue_.pop_front();
    do_write();
  }

  void finish(bool clean) {
    if (closed_)
      return;
    closed_ = true;
    close_timer_.cancel();
    queue_.clear();
    queued_ = 0;
    if (opened_)
      handler_->on_close(shared_from_this(), clean);
  }

  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ws_handler> handler_;
  uint64_t id_;
  server::impl& srv_;
  std::deque<std::pair<std::string, bool>> queue_;
  size_t queued_ = 0;
  uint16_t close_code_ = 1000;
  bool opened_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool closed_ = false;
  bool stalled_ = false;
  /// A stalled session's duplicate of its socket (see stall()).
  int stalled_fd_ = -1;
  /// Bounds the wait for the peer's close frame (see close()).
  net::steady_timer close_timer_;
};

template<class Stream>
class http_session : public std::enable_shared_from_this<http_session<Stream>> {
 public:
  using std::enable_shared_from_this<http_session<Stream>>::shared_from_this;

  http_session(Stream&& stream, server::impl& srv)
      : stream_(std::move(stream)), srv_(srv) {}

  void run() {
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
      stream_.async_handshake(
        net::ssl::stream_base::server,
        [self = shared_from_this()](beast::error_code ec) {
          if (!ec)
            self->do_read();
        });
    } else {
      do_read();
    }
  }

 private:
  void shutdown() {
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(1 << 20);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) {
      shutdown();
      return;
    }
    if (ec)
      return;
    auto req = parser_->release();
    auto info = to_request(req);
    beast::error_code peer_ec;
    auto peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(
      peer_ec);
    if (!peer_ec)
      info.peer_address = peer.address().to_string();
    if constexpr (std::is_same_v<Stream, tls_stream>)
      info.peer_certificate = peer_fingerprint(stream_.native_handle());
    if (websocket::is_upgrade(req)) {
      auto decision = srv_.callbacks.on_upgrade(info);
      if (decision.handler) {
        beast::get_lowest_layer(stream_).expires_never();
        auto session = std::make_shared<ws_session<Stream>>(
          std::move(stream_), std::move(decision.handler), srv_.next_id++,
          srv_);
        session->start(std::move(req), decision.deflate);
        return;
      }
      respond(decision.rejection, req.version(), false);
      return;
    }
    if (srv_.callbacks.on_http_async) {
      auto version = req.version();
      auto keep_alive = req.keep_alive();
      // The answer may come from any thread: back to ours to write it.
      std::weak_ptr<http_session> weak = shared_from_this();
      srv_.callbacks.on_http_async(
        info, [gate = srv_.gate, weak, version,
               keep_alive](http_response out) {
          std::lock_guard<std::mutex> guard{gate->mtx};
          if (gate->ioc == nullptr)
            return;
          net::post(*gate->ioc, [weak, out = std::move(out), version,
                                 keep_alive] {
            if (auto self = weak.lock(); self && !self->srv_.stopped)
              self->respond(out, version, keep_alive);
          });
        });
      // The answer holds the session weakly; the server holds it until the
      // answer is written or the server stops (never a cycle, never freed
      // off the I/O thread).
      pending_id_ = srv_.next_id++;
      srv_.pending_http.emplace(pending_id_, shared_from_this());
      return;
    }
    respond(srv_.callbacks.on_http(info), req.version(), req.keep_alive());
  }

  void respond(const http_response& out, unsigned version, bool keep_alive) {
    if (pending_id_ != 0) {
      // The write's handler keeps the session alive from here on.
      auto keep = shared_from_this();
      srv_.pending_http.erase(pending_id_);
      pending_id_ = 0;
    }
    auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(out.status), version);
    res->set(http::field::server, srv_.server_name);
    for (auto& [name, value] : out.headers)
      res->set(name, value);
    if (out.headers.count("Content-Type") == 0 && !out.body.empty())
      res->set(http::field::content_type, "application/json");
    res->body() = out.body;
    res->keep_alive(keep_alive);
    res->prepare_payload();
    if (out.delay.count() > 0) {
      // Registered with the server, so stop() cancels it.
      auto id = srv_.next_id++;
      auto timer = std::make_shared<net::steady_timer>(srv_.ioc);
      timer->expires_after(out.delay);
      srv_.timers.emplace(id, timer);
      timer->async_wait([self = shared_from_this(), res, timer, id,
                         keep_alive](beast::error_code ec) {
        self->srv_.timers.erase(id);
        if (!ec)
          self->write(res, keep_alive);
      });
      return;
    }
    write(res, keep_alive);
  }

  void write(std::shared_ptr<http::response<http::string_body>> res,
             bool keep_alive) {
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res,
                       keep_alive](beast::error_code ec, size_t) {
                        if (ec)
                          return;
                        if (!keep_alive) {
                          self->shutdown();
                          return;
                        }
                        self->do_read();
                      });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  /// Set while an asynchronous answer is pending (see on_http_async).
  uint64_t pending_id_ = 0;
  server::impl& srv_;
};

} // namespace

void server::impl::accept() {
  acceptor.async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) {
    if (ec || stopped)
      return;
    // Market data is many small frames: send each at once, not when Nagle's
    // algorithm finds it worth a packet.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (!tls) {
      std::make_shared<http_session<plain_stream>>(
        plain_stream{std::move(socket)}, *this)
        ->run();
    } else if (refuse_tls) {
      socket.set_option(net::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
    } else {
      std::make_shared<http_session<tls_stream>>(
        tls_stream{std::move(socket), ssl}, *this)
        ->run();
    }
    accept();
  });
}

server::server(server_options opts, server_callbacks callbacks)
    : impl_(std::make_unique<impl>()) {
  impl_->callbacks = std::move(callbacks);
  impl_->server_name = opts.server_name;
  impl_->close_timeout = opts.close_timeout;
  if (!opts.tls_certificate_pem.empty()) {
    auto& ssl = impl_->ssl;
    ssl.set_options(net::ssl::context::default_workarounds
                    | net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3
                    | net::ssl::context::no_tlsv1
                    | net::ssl::context::no_tlsv1_1);
    ssl.use_certificate_chain(net::buffer(opts.tls_certificate_pem));
    ssl.use_private_key(net::buffer(opts.tls_private_key_pem),
                        net::ssl::context::pem);
    if (!opts.tls_client_ca_pem.empty()) {
      ssl.add_certificate_authority(net::buffer(opts.tls_client_ca_pem));
      ssl.set_verify_mode(net::ssl::verify_peer
                          | net::ssl::verify_fail_if_no_peer_cert);
    }
    impl_->tls = true;
  }
  tcp::endpoint endpoint{net::ip::make_address(opts.address), opts.port};
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(net::socket_base::max_listen_connections);
  impl_->accept();
  impl_->gate->ioc = &impl_->ioc;
  impl_->thread = std::thread{[this] { impl_->ioc.run(); }};
}

server::~server() {
  stop();
}

uint16_t server::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void server::post(std::function<void()> f) {
  net::post(impl_->ioc, std::move(f));
}

server::timer_id server::schedule(std::chrono::nanoseconds delay,
                                  std::function<void()> f) {
  auto id = impl_->next_id++;
  net::post(impl_->ioc, [this, id, delay, f = std::move(f)]() mutable {
    if (impl_->stopped)
      return;
    auto timer = std::make_shared<net::steady_timer>(impl_->ioc);
    timer->expires_after(delay);
    impl_->timers.emplace(id, timer);
    timer->async_wait(
      [this, id, timer, f = std::move(f)](beast::error_code ec) {
        impl_->timers.erase(id);
        if (!ec)
          f();
      });
  });
  return id;
}

void server::cancel(timer_id id) {
  auto i = impl_->timers.find(id);
  if (i != impl_->timers.end()) {
    i->second->cancel();
    impl_->timers.erase(i);
  }
}

bool server::tls() const {
  return impl_->tls;
}

void server::refuse_tls(bool on) {
  impl_->refuse_tls = on;
}

void server::stop() {
  if (!impl_ || !impl_->thread.joinable())
    return;
  net::post(impl_->ioc, [this] {
    impl_->stopped = true;
    beast::error_code ec;
    impl_->acceptor.close(ec);
    for (auto& [id, timer] : impl_->timers)
      timer->cancel();
    for (auto& weak : impl_->sessions)
      if (auto session = weak.lock())
        session->reset();
    impl_->sessions.clear();
    impl_->stalled.clear();
    {
      std::lock_guard<std::mutex> guard{impl_->gate->mtx};
      impl_->gate->ioc = nullptr;
    }
    impl_->pending_http.clear();
    impl_->ioc.stop();
  });
  impl_->thread.join();
  // The aborted operations complete here, releasing their sessions before
  // the io_context goes.
  impl_->ioc.restart();
  impl_->ioc.poll();
}

} // namespace athanor::transport

#include "transport/http_client.hpp"

#include <deque>
#include <optional>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "transport/detail/client_setup.hpp"
#include "transport/detail/io_context.hpp"

namespace athanor::transport {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::string to_string(http_outcome x) {
  switch (x) {
    case http_outcome::answered: return "answered";
    case http_outcome::bad_url: return "bad_url";
    case http_outcome::resolve_failed: return "resolve_failed";
    case http_outcome::connect_failed: return "connect_failed";
    case http_outcome::tls_failed: return "tls_failed";
    case http_outcome::certificate_invalid: return "certificate_invalid";
    case http_outcome::timeout: return "timeout";
    case http_outcome::connection_lost: return "connection_lost";
    case http_outcome::canceled: return "canceled";
  }
  return "?";
}

namespace {

using base_url = detail::url_parts;

int64_t wall_clock_ns() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
}

struct pending {
  http_call call;
  http_client::callback done;
};

http_reply failure(http_outcome outcome, std::string detail) {
  http_reply result;
  result.outcome = outcome;
  result.detail = std::move(detail);
  return result;
}

} // namespace

struct http_client::impl {
  virtual ~impl() = default;
  virtual void request(http_call call, callback done) = 0;
  /// On the I/O thread: cancel everything and close every connection.
  virtual void detach() = 0;
};

namespace {

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

template<class Stream>
class pool;

// One keep-alive connection; runs one request at a time.
template<class Stream>
class connection : public std::enable_shared_from_this<connection<Stream>> {
 public:
  using std::enable_shared_from_this<connection<Stream>>::shared_from_this;

  connection(net::io_context& ioc, std::shared_ptr<pool<Stream>> owner)
      : ioc_(ioc), owner_(std::move(owner)), idle_timer_(ioc) {}

  bool busy() const {
    return current_.has_value();
  }

  bool dead() const {
    return dead_;
  }

  void run(pending job) {
    current_ = std::move(job);
    idle_timer_.cancel();
    if (stream_) {
      // Stop watching the idle socket; its handler sees `busy()`.
      beast::get_lowest_layer(*stream_).socket().cancel();
      write();
      return;
    }
    connect();
  }

  /// Ends the current request with `reply` (if any) and drops the socket.
  void abort(http_reply reply) {
    dead_ = true;
    close_socket();
    complete(std::move(reply));
  }

 private:
  void connect() {
    if constexpr (std::is_same_v<Stream, tls_stream>)
      stream_.emplace(ioc_, owner_->ssl());
    else
      stream_.emplace(ioc_);
    deadline();
    owner_->resolver().async_resolve(
      owner_->url().host, owner_->url().port,
      [self = shared_from_this()](beast::error_code ec,
                                  tcp::resolver::results_type results) {
        if (ec)
          return self->fail(http_outcome::resolve_failed, ec);
        if (!self->busy())
          return;
        beast::get_lowest_layer(*self->stream_)
          .async_connect(results, [self](beast::error_code ec,
                                         const tcp::endpoint&) {
            self->on_connect(ec);
          });
      });
  }

  void on_connect(beast::error_code ec) {
    if (ec)
      return fail(ec == beast::error::timeout ? http_outcome::timeout
                                              : http_outcome::connect_failed,
                  ec);
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).socket().set_option(tcp::no_delay(true),
                                                          ignored);
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      auto host = owner_->url().host;
      SSL_set_tlsext_host_name(stream_->native_handle(), host.c_str());
      stream_->set_verify_mode(ssl::verify_peer);
      // The stream is ours, so `this` outlives the callback.
      stream_->set_verify_callback(
        [this, host](bool preverified, ssl::verify_context& ctx) {
          auto ok = ssl::host_name_verification(host)(preverified, ctx);
          if (!ok)
            certificate_rejected_ = true;
          return ok;
        });
      stream_->async_handshake(
        ssl::stream_base::client,
        [self = shared_from_this()](beast::error_code ec) {
          if (ec)
            return self->fail(self->certificate_rejected_
                                  ? http_outcome::certificate_invalid
                                : ec == beast::error::timeout
                                  ? http_outcome::timeout
                                  : http_outcome::tls_failed,
                              ec);
          self->write();
        });
    } else {
      write();
    }
  }

  void write() {
    deadline();
    auto& call = current_->call;
    request_.emplace(http::string_to_verb(call.method), call.target, 11);
    request_->set(http::field::host, owner_->url().host);
    request_->set(http::field::user_agent, "athanor");
    for (auto& [name, value] : call.headers)
      request_->set(name, value);
    if (!call.body.empty()) {
      request_->set(http::field::content_type, "application/json");
      request_->body() = call.body;
    }
    request_->keep_alive(true);
    request_->prepare_payload();
    http::async_write(*stream_, *request_,
                      [self = shared_from_this()](beast::error_code ec,
                                                  size_t) {
                        if (ec)
                          return self->fail(ec == beast::error::timeout
                                              ? http_outcome::timeout
                                              : http_outcome::connection_lost,
                                            ec);
                        self->read();
                      });
  }

  void read() {
    response_.emplace();
    response_->body_limit(64 << 20);
    http::async_read(*stream_, buffer_, *response_,
                     [self = shared_from_this()](beast::error_code ec,
                                                 size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec)
      return fail(ec == beast::error::timeout ? http_outcome::timeout
                                              : http_outcome::connection_lost,
                  ec);
    auto res = response_->release();
    http_reply reply;
    reply.received_at = wall_clock_ns();
    reply.status = static_cast<int>(res.result_int());
    reply.body = std::move(res.body());
    for (auto& field : res) {
      std::string name{field.name_string()};
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string{field.value()};
    }
    if (res.keep_alive()) {
      beast::get_lowest_layer(*stream_).expires_never();
      watch_idle();
    } else {
      dead_ = true;
      close_socket();
    }
    complete(std::move(reply));
  }

  // While idle, a readable socket means the server closed it (or sent
  // something unasked): drop it before a request is written into it.
  void watch_idle() {
    auto& socket = beast::get_lowest_layer(*stream_).socket();
    socket.async_wait(tcp::socket::wait_read,
                      [self = shared_from_this()](beast::error_code ec) {
                        if (ec || self->busy() || self->dead_)
                          return;
                        self->dead_ = true;
                        self->close_socket();
                        self->owner_->forget(self.get());
                      });
    idle_timer_.expires_after(owner_->options().idle_timeout);
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->busy() || self->dead_)
        return;
      self->dead_ = true;
      self->close_socket();
      self->owner_->forget(self.get());
    });
  }

  void deadline() {
    beast::get_lowest_layer(*stream_).expires_after(current_->call.timeout);
  }

  void fail(http_outcome outcome, beast::error_code ec) {
    abort(failure(outcome, ec.message()));
  }

  void close_socket() {
    idle_timer_.cancel();
    if (!stream_)
      return;
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).socket().close(ignored);
  }

  void complete(http_reply reply) {
    if (!current_)
      return;
    auto job = std::move(*current_);
    current_.reset();
    // request_ stays: an aborted write may still read from it until its
    // handler runs; the next write replaces it.
    if (dead_)
      owner_->forget(this);
    if (job.done)
      job.done(std::move(reply));
    owner_->dispatch();
  }

  net::io_context& ioc_;
  std::shared_ptr<pool<Stream>> owner_;
  net::steady_timer idle_timer_;
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request<http::string_body>> request_;
  std::optional<http::response_parser<http::string_body>> response_;
  std::optional<pending> current_;
  bool dead_ = false;
  bool certificate_rejected_ = false;
};

template<class Stream>
class pool : public http_client::impl,
             public std::enable_shared_from_this<pool<Stream>> {
 public:
  using std::enable_shared_from_this<pool<Stream>>::shared_from_this;

  pool(net::io_context& ioc, base_url url, http_client_options opts)
      : ioc_(ioc), url_(std::move(url)), opts_(std::move(opts)),
        resolver_(ioc), ssl_(ssl::context::tls_client) {}

  /// Loads the trust store; returns an error text, or "" on success.
  std::string init() {
    return detail::trust(ssl_, opts_.ca_file, opts_.ca_pem);
  }

  void request(http_call call, http_client::callback done) override {
    net::post(ioc_, [self = shared_from_this(), call = std::move(call),
                     done = std::move(done)]() mutable {
      if (self->detached_) {
        done(failure(http_outcome::canceled, "client destroyed"));
        return;
      }
      if (!self->trust_error_.empty()) {
        done(failure(http_outcome::tls_failed, self->trust_error_));
        return;
      }
      self->queue_.push_back({std::move(call), std::move(done)});
      self->dispatch();
    });
  }

  void detach() override {
    detached_ = true;
    auto queued = std::move(queue_);
    queue_.clear();
    for (auto& job : queued)
      if (job.done)
        job.done(failure(http_outcome::canceled, "client destroyed"));
    auto running = connections_;
    for (auto& conn : running)
      conn->abort(failure(http_outcome::canceled, "client destroyed"));
    connections_.clear();
    resolver_.cancel();
  }

  void set_trust_error(std::string text) {
    trust_error_ = std::move(text);
  }

  // -- for the connections ----------------------------------------------------

  void dispatch() {
    while (!detached_ && !queue_.empty()) {
      std::shared_ptr<connection<Stream>> free;
      for (auto& conn : connections_)
        if (!conn->busy() && !conn->dead())
          free = conn;
      if (!free) {
        if (connections_.size() >= std::max<size_t>(opts_.max_connections, 1))
          return;
        free = std::make_shared<connection<Stream>>(ioc_, shared_from_this());
        connections_.push_back(free);
      }
      auto job = std::move(queue_.front());
      queue_.pop_front();
      free->run(std::move(job));
    }
  }

  void forget(connection<Stream>* conn) {
    auto i = std::find_if(connections_.begin(), connections_.end(),
                          [conn](auto& x) { return x.get() == conn; });
    if (i != connections_.end())
      connections_.erase(i);
  }

  const base_url& url() const {
    return url_;
  }

  const http_client_options& options() const {
    return opts_;
  }

  tcp::resolver& resolver() {
    return resolver_;
  }

  ssl::context& ssl() {
    return ssl_;
  }

 private:
  net::io_context& ioc_;
  base_url url_;
  http_client_options opts_;
  tcp::resolver resolver_;
  ssl::context ssl_;
  std::string trust_error_;
  std::deque<pending> queue_;
  std::vector<std::shared_ptr<connection<Stream>>> connections_;
  bool detached_ = false;
};

// Stands in for a client whose URL was bad: every request fails at once.
class failed_client : public http_client::impl,
                      public std::enable_shared_from_this<failed_client> {
 public:
  failed_client(net::io_context& ioc, std::string url)
      : ioc_(ioc), url_(std::move(url)) {}

  void request(http_call, http_client::callback done) override {
    net::post(ioc_, [done = std::move(done), url = url_] {
      done(failure(http_outcome::bad_url,
                   "'" + url + "' is not an http:// or https:// URL"));
    });
  }

  void detach() override {}

 private:
  net::io_context& ioc_;
  std::string url_;
};

template<class Stream>
std::shared_ptr<http_client::impl>
make_pool(net::io_context& ioc, base_url url, http_client_options opts) {
  auto result = std::make_shared<pool<Stream>>(ioc, std::move(url),
                                               std::move(opts));
  result->set_trust_error(result->init());
  return result;
}

} // namespace

http_client::http_client(io_thread& io, std::shared_ptr<impl> x)
    : io_(io), impl_(std::move(x)) {}

http_client::~http_client() {
  // Once the I/O thread has let go of the callbacks, what they refer to may
  // go too.
  io_.run_and_wait([x = impl_] { x->detach(); });
}

void http_client::request(http_call call, callback done) {
  impl_->request(std::move(call), std::move(done));
}

std::unique_ptr<http_client> http_client::create(io_thread& io,
                                                 http_client_options opts) {
  auto& ioc = io.get().ioc;
  std::shared_ptr<impl> x;
  if (auto url = detail::parse_url(opts.base_url, "https", "http"); !url)
    x = std::make_shared<failed_client>(ioc, opts.base_url);
  else if (url->tls)
    x = make_pool<tls_stream>(ioc, *url, std::move(opts));
  else
    x = make_pool<plain_stream>(ioc, *url, std::move(opts));
  return std::unique_ptr<http_client>{new http_client(io, std::move(x))};
}

} // namespace athanor::transport

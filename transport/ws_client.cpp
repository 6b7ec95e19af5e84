#include "transport/ws_client.hpp"

#include <deque>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "transport/detail/client_setup.hpp"
#include "transport/detail/io_context.hpp"

namespace athanor::transport {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::string to_string(ws_end x) {
  switch (x) {
    case ws_end::closed: return "closed";
    case ws_end::bad_url: return "bad_url";
    case ws_end::resolve_failed: return "resolve_failed";
    case ws_end::connect_failed: return "connect_failed";
    case ws_end::tls_failed: return "tls_failed";
    case ws_end::certificate_invalid: return "certificate_invalid";
    case ws_end::upgrade_rejected: return "upgrade_rejected";
    case ws_end::rate_limited: return "rate_limited";
    case ws_end::pong_timeout: return "pong_timeout";
    case ws_end::connection_lost: return "connection_lost";
    case ws_end::timeout: return "timeout";
  }
  return "?";
}

struct ws_client::impl {
  virtual ~impl() = default;
  virtual void send(std::string frame, bool binary) = 0;
  virtual void ack(size_t frames) = 0;
  virtual void close() = 0;
  /// On the I/O thread: forget the callbacks and drop the connection.
  virtual void detach() = 0;
};

namespace {

using detail::url_parts;

using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

template<class Ws>
class client_impl : public ws_client::impl,
                    public std::enable_shared_from_this<client_impl<Ws>> {
 public:
  using std::enable_shared_from_this<client_impl<Ws>>::shared_from_this;

  client_impl(net::io_context& ioc, url_parts url, ws_client_options opts,
              ws_client_events events)
      : ioc_(ioc), url_(std::move(url)), opts_(std::move(opts)),
        events_(std::move(events)), resolver_(ioc), ping_timer_(ioc),
        pong_timer_(ioc), close_timer_(ioc), ssl_(ssl::context::tls_client) {}

  void start() {
    net::post(ioc_, [self = shared_from_this()] { self->do_start(); });
  }

  void send(std::string frame, bool binary) override {
    net::post(ioc_, [self = shared_from_this(), frame = std::move(frame),
                     binary]() mutable {
      if (self->finished_ || self->closing_)
        return;
      self->queue_.emplace_back(std::move(frame), binary);
      if (self->open_ && !self->writing_)
        self->do_write();
    });
  }

  void ack(size_t frames) override {
    net::post(ioc_, [self = shared_from_this(), frames] {
      self->in_flight_ -= std::min(frames, self->in_flight_);
      if (self->paused_ && self->open_
          && self->in_flight_ < self->opts_.max_in_flight) {
        self->paused_ = false;
        self->do_read();
      }
    });
  }

  void close() override {
    net::post(ioc_, [self = shared_from_this()] { self->do_close(); });
  }

  void detach() override {
    events_ = ws_client_events{};
    finish({ws_end::closed, 0, 0, "detached"});
  }

 private:
  // -- connecting, in protocol order ----------------------------------------

  void do_start() {
    if (auto err = detail::trust(ssl_, opts_.ca_file, opts_.ca_pem);
        !err.empty()) {
      finish({ws_end::tls_failed, 0, 0, err});
      return;
    }
    if constexpr (std::is_same_v<Ws, tls_ws>)
      ws_.emplace(ioc_, ssl_);
    else
      ws_.emplace(ioc_);
    beast::get_lowest_layer(*ws_).expires_after(opts_.handshake_timeout);
    resolver_.async_resolve(
      url_.host, url_.port,
      [self = shared_from_this()](beast::error_code ec,
                                  tcp::resolver::results_type results) {
        self->on_resolve(ec, std::move(results));
      });
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec)
      return fail(ws_end::resolve_failed, ec);
    beast::get_lowest_layer(*ws_).async_connect(
      results,
      [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
        self->on_connect(ec);
      });
  }

  void on_connect(beast::error_code ec) {
    if (ec)
      return fail(ec == beast::error::timeout ? ws_end::timeout
                                              : ws_end::connect_failed,
                  ec);
    // Subscription changes and pongs are small: no Nagle delay for them.
    beast::error_code ignored;
    beast::get_lowest_layer(*ws_).socket().set_option(tcp::no_delay(true),
                                                      ignored);
    if constexpr (std::is_same_v<Ws, tls_ws>) {
      auto& tls = ws_->next_layer();
      SSL_set_tlsext_host_name(tls.native_handle(), url_.host.c_str());
      tls.set_verify_mode(ssl::verify_peer);
      // The stream is ours, so `this` outlives the callback.
      tls.set_verify_callback(
        [this](bool preverified, ssl::verify_context& ctx) {
          auto ok = ssl::host_name_verification(url_.host)(preverified, ctx);
          if (!ok)
            certificate_rejected_ = true;
          return ok;
        });
      tls.async_handshake(ssl::stream_base::client,
                          [self = shared_from_this()](beast::error_code ec) {
                            self->on_tls_handshake(ec);
                          });
    } else {
      do_upgrade();
    }
  }

  void on_tls_handshake(beast::error_code ec) {
    if (ec)
      return fail(certificate_rejected_         ? ws_end::certificate_invalid
                  : ec == beast::error::timeout ? ws_end::timeout
                                                : ws_end::tls_failed,
                  ec);
    do_upgrade();
  }

  void do_upgrade() {
    beast::get_lowest_layer(*ws_).expires_never();
    websocket::stream_base::timeout timeouts{
      opts_.handshake_timeout, websocket::stream_base::none(), false};
    ws_->set_option(timeouts);
    ws_->set_option(websocket::stream_base::decorator(
      [headers = opts_.headers](websocket::request_type& req) {
        req.set(http::field::user_agent, "athanor");
        for (auto& [name, value] : headers)
          req.set(name, value);
      }));
    if (opts_.deflate) {
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      ws_->set_option(pmd);
    }
    // Alpaca frames can be large (news, "*" subscriptions): no limit.
    ws_->read_message_max(0);
    ws_->async_handshake(response_, url_.host + ":" + url_.port, url_.target,
                         [self = shared_from_this()](beast::error_code ec) {
                           self->on_upgrade(ec);
                         });
  }

  void on_upgrade(beast::error_code ec) {
    if (ec == websocket::error::upgrade_declined) {
      auto status = static_cast<int>(response_.result_int());
      finish({status == 429 ? ws_end::rate_limited : ws_end::upgrade_rejected,
              status, 0, "HTTP " + std::to_string(status)});
      return;
    }
    if (ec)
      return fail(ec == beast::error::timeout ? ws_end::timeout
                                              : ws_end::connection_lost,
                  ec);
    open_ = true;
    ws_->control_callback(
      [this](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::pong) {
          awaiting_pong_ = false;
          pong_timer_.cancel();
        }
      });
    if (events_.on_open)
      events_.on_open();
    arm_ping();
    do_read();
    if (!queue_.empty())
      do_write();
  }

  // -- streaming --------------------------------------------------------------

  void do_read() {
    if (!open_ || paused_)
      return;
    ws_->async_read(buffer_,
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->on_read(ec);
                    });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      // After our own close, whatever ends the read (closed, aborted) is the
      // end of a clean close.
      if (ec == websocket::error::closed || closing_) {
        auto& why = ws_->reason();
        finish({ws_end::closed, 0, static_cast<uint16_t>(why.code),
                std::string(why.reason.data(), why.reason.size())});
      } else
        fail(ws_end::connection_lost, ec);
      return;
    }
    auto frame = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    ++in_flight_;
    if (events_.on_frame)
      events_.on_frame(std::move(frame), ws_->got_binary());
    if (in_flight_ >= opts_.max_in_flight)
      paused_ = true; // ack() resumes
    else
      do_read();
  }

  void do_write() {
    if (!open_ || queue_.empty())
      return;
    writing_ = true;
    ws_->binary(queue_.front().second);
    ws_->async_write(net::buffer(queue_.front().first),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       // finish() kept the frame being written alive; a
                       // write that completes after it ends here.
                       if (self->finished_) {
                         self->queue_.clear();
                         return;
                       }
                       if (ec)
                         return self->fail(ws_end::connection_lost, ec);
                       self->queue_.pop_front();
                       self->do_write();
                     });
  }

  // -- liveness -------------------------------------------------------------

  void arm_ping() {
    ping_timer_.expires_after(opts_.ping_interval);
    ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->open_ || self->closing_)
        return;
      // While paused we do not read, so pongs could not be seen: wait. While
      // a pong is outstanding its deadline keeps running from the first
      // unanswered ping; re-arming it would let a dead peer live forever.
      if (!self->paused_ && !self->awaiting_pong_) {
        self->awaiting_pong_ = true;
        self->ws_->async_ping({}, [](beast::error_code) {});
        self->pong_timer_.expires_after(self->opts_.pong_timeout);
        self->pong_timer_.async_wait([self](beast::error_code ec) {
          if (!ec && self->open_)
            self->do_close(
              ws_closed{ws_end::pong_timeout, 0, 0, "no pong in time"});
        });
      }
      self->arm_ping();
    });
  }

  // -- ending -----------------------------------------------------------------

  // Sends a close frame and waits at most close_timeout for the peer's:
  // a server keeps the slot of a connection dropped without one. `cause`,
  // when set, is what the end reports, however the close goes.
  void do_close(std::optional<ws_closed> cause = std::nullopt) {
    if (finished_ || closing_)
      return;
    if (!open_) {
      finish(cause.value_or(
        ws_closed{ws_end::closed, 0, 0, "closed before the upgrade"}));
      return;
    }
    closing_ = true;
    cause_ = std::move(cause);
    close_timer_.expires_after(opts_.close_timeout);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->finish({ws_end::timeout, 0, 0, "no close frame in time"});
    });
    ws_->async_close(websocket::close_code::normal,
                     [self = shared_from_this()](beast::error_code ec) {
                       if (ec)
                         self->fail(ws_end::connection_lost, ec);
                       else
                         self->finish({ws_end::closed, 1000, 0, "closed"});
                     });
  }

  void fail(ws_end reason, beast::error_code ec) {
    finish({reason, 0, 0, ec.message()});
  }

  void finish(ws_closed how) {
    if (finished_)
      return;
    if (cause_)
      how = std::move(*cause_);
    finished_ = true;
    open_ = false;
    beast::error_code ignored;
    ping_timer_.cancel();
    pong_timer_.cancel();
    close_timer_.cancel();
    resolver_.cancel();
    if (ws_)
      beast::get_lowest_layer(*ws_).socket().close(ignored);
    // The frame a pending write reads from must outlive that write.
    queue_.erase(writing_ && !queue_.empty() ? queue_.begin() + 1
                                             : queue_.begin(),
                 queue_.end());
    if (events_.on_closed)
      events_.on_closed(how);
  }

  net::io_context& ioc_;
  url_parts url_;
  ws_client_options opts_;
  ws_client_events events_;
  tcp::resolver resolver_;
  net::steady_timer ping_timer_;
  net::steady_timer pong_timer_;
  net::steady_timer close_timer_;
  ssl::context ssl_;
  std::optional<Ws> ws_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  std::deque<std::pair<std::string, bool>> queue_;
  size_t in_flight_ = 0;
  bool open_ = false;
  bool paused_ = false;
  bool awaiting_pong_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool certificate_rejected_ = false;
  /// Why we are closing, when it is not the caller's close().
  std::optional<ws_closed> cause_;
};

// Stands in for a client whose URL was bad; its end was already reported.
class failed_client : public ws_client::impl {
 public:
  void send(std::string, bool) override {}
  void ack(size_t) override {}
  void close() override {}
  void detach() override {}
};

} // namespace

ws_client::ws_client(io_thread& io, std::shared_ptr<impl> x)
    : io_(io), impl_(std::move(x)) {}

ws_client::~ws_client() {
  // Once the I/O thread has let go of the callbacks, what they refer to may
  // go too.
  io_.run_and_wait([x = impl_] { x->detach(); });
}

void ws_client::send(std::string frame, bool binary) {
  impl_->send(std::move(frame), binary);
}

void ws_client::ack(size_t frames) {
  impl_->ack(frames);
}

void ws_client::close() {
  impl_->close();
}

std::unique_ptr<ws_client> ws_client::connect(io_thread& io,
                                              ws_client_options opts,
                                              ws_client_events events) {
  auto& ioc = io.get().ioc;
  std::shared_ptr<impl> x;
  if (auto url = detail::parse_url(opts.url, "wss", "ws"); !url) {
    // Reported on the I/O thread, like every other end.
    net::post(ioc, [events, url = opts.url] {
      if (events.on_closed)
        events.on_closed({ws_end::bad_url, 0, 0,
                          "'" + url + "' is not a ws:// or wss:// URL"});
    });
    x = std::make_shared<failed_client>();
  } else if (url->tls) {
    auto client = std::make_shared<client_impl<tls_ws>>(
      ioc, *url, std::move(opts), std::move(events));
    client->start();
    x = client;
  } else {
    auto client = std::make_shared<client_impl<plain_ws>>(
      ioc, *url, std::move(opts), std::move(events));
    client->start();
    x = client;
  }
  return std::unique_ptr<ws_client>{new ws_client(io, std::move(x))};
}

} // namespace athanor::transport

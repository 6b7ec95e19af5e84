#include "actors/market/ws_link.hpp"

#include "caf/send.hpp"

#include "messages/execution.hpp"
#include "transport/ws_client.hpp"

namespace athanor {

namespace {

link_end to_link_end(transport::ws_end x) {
  using transport::ws_end;
  switch (x) {
    case ws_end::closed: return link_end::closed;
    case ws_end::bad_url: return link_end::bad_url;
    case ws_end::resolve_failed: return link_end::resolve_failed;
    case ws_end::connect_failed: return link_end::connect_failed;
    case ws_end::tls_failed: return link_end::tls_failed;
    case ws_end::certificate_invalid: return link_end::certificate_invalid;
    case ws_end::upgrade_rejected: return link_end::upgrade_rejected;
    case ws_end::rate_limited: return link_end::rate_limited;
    case ws_end::pong_timeout: return link_end::pong_timeout;
    case ws_end::connection_lost: return link_end::connection_lost;
    case ws_end::timeout: return link_end::timeout;
  }
  return link_end::connection_lost;
}

class ws_link : public link {
 public:
  ws_link(std::shared_ptr<transport::io_thread> io,
          std::unique_ptr<transport::ws_client> client, bool binary)
    : io_(std::move(io)), client_(std::move(client)), binary_(binary) {}

  void send(std::string frame) override {
    client_->send(std::move(frame), binary_);
  }

  void ack(size_t frames) override {
    client_->ack(frames);
  }

  void close() override {
    client_->close();
  }

 private:
  // Declared first: destroyed after the client, which needs the thread.
  std::shared_ptr<transport::io_thread> io_;
  std::unique_ptr<transport::ws_client> client_;
  /// MessagePack travels in binary frames, JSON in text frames.
  bool binary_;
};

class ws_link_factory : public link_factory {
 public:
  ws_link_factory(std::shared_ptr<transport::io_thread> io,
                  ws_link_options opts)
    : io_(std::move(io)), opts_(std::move(opts)) {}

  std::unique_ptr<link> open(link_request req) override {
    transport::ws_client_options opts;
    opts.url = req.url;
    if (req.encoding == protocol::codec::msgpack)
      opts.headers["Content-Type"] = "application/msgpack";
    opts.deflate = opts_.deflate;
    opts.ca_file = opts_.ca_file;
    opts.ca_pem = opts_.ca_pem;
    opts.handshake_timeout = opts_.handshake_timeout;
    opts.ping_interval = opts_.ping_interval;
    opts.pong_timeout = opts_.pong_timeout;
    opts.close_timeout = opts_.close_timeout;
    opts.max_in_flight = opts_.max_in_flight;
    auto session = req.session;
    auto epoch = req.epoch;
    auto tap = req.tap;
    transport::ws_client_events events;
    events.on_open = [session, epoch, tap] {
      if (tap)
        tap->opened(epoch, link_clock_ns());
      caf::anon_send(session, link_opened{epoch});
    };
    if (req.trading) {
      // Trading frames are JSON in text or binary frames; few, so the
      // session decodes them itself.
      events.on_frame = [session, epoch, tap](std::string frame, bool binary) {
        if (tap)
          tap->inbound(epoch, link_clock_ns(), binary, frame);
        caf::anon_send(session, trading_frame{epoch, std::move(frame)});
      };
    } else {
      events.on_frame = [session, epoch, tap](std::string frame,
                                              bool binary) {
        auto at = link_clock_ns();
        if (tap)
          tap->inbound(epoch, at, binary, frame);
        // Alpaca sends JSON as text and MessagePack as binary frames.
        auto encoding = binary ? protocol::codec::msgpack
                               : protocol::codec::json;
        caf::anon_send(session, decode_link_frame(epoch, encoding, frame, at));
      };
    }
    events.on_closed = [session, epoch,
                        tap](const transport::ws_closed& closed) {
      link_closed msg{epoch, to_link_end(closed.reason), closed.http_status,
                      closed.close_code, closed.detail};
      if (tap)
        tap->closed(epoch, link_clock_ns(), msg);
      caf::anon_send(session, std::move(msg));
    };
    return std::make_unique<ws_link>(
      io_,
      transport::ws_client::connect(*io_, std::move(opts), std::move(events)),
      req.encoding == protocol::codec::msgpack);
  }

 private:
  std::shared_ptr<transport::io_thread> io_;
  ws_link_options opts_;
};

} // namespace

std::shared_ptr<link_factory>
make_ws_link_factory(std::shared_ptr<transport::io_thread> io,
                     ws_link_options opts) {
  return std::make_shared<ws_link_factory>(io, std::move(opts));
}

} // namespace athanor

#define CAF_SUITE transport.ws_client
#include "transport/ws_client.hpp"

#include "caf/test/unit_test.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>

#include "protocol/market_data.hpp"
#include "sim/simulator.hpp"
#include "transport/tls.hpp"

using namespace athanor;
using namespace athanor::protocol;
using namespace athanor::transport;
using namespace std::chrono_literals;

namespace {

// Records what the client reports on the I/O thread; tests wait on it.
// (Test code: a lock is the simplest hand-off between the two threads.)
struct recorder {
  std::mutex mtx;
  std::condition_variable cv;
  bool opened = false;
  std::deque<std::pair<std::string, bool>> frames;
  size_t frames_seen = 0;
  std::optional<ws_closed> closed;

  ws_client_events events() {
    return {[this] {
              std::lock_guard<std::mutex> guard{mtx};
              opened = true;
              cv.notify_all();
            },
            [this](std::string frame, bool binary) {
              std::lock_guard<std::mutex> guard{mtx};
              frames.emplace_back(std::move(frame), binary);
              ++frames_seen;
              cv.notify_all();
            },
            [this](const ws_closed& how) {
              std::lock_guard<std::mutex> guard{mtx};
              closed = how;
              cv.notify_all();
            }};
  }

  template<class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, timeout, [&] { return pred(); });
  }

  std::optional<std::pair<std::string, bool>> next_frame() {
    std::unique_lock<std::mutex> guard{mtx};
    if (!cv.wait_for(guard, 5000ms, [&] { return !frames.empty(); }))
      return std::nullopt;
    auto x = std::move(frames.front());
    frames.pop_front();
    return x;
  }

  ws_end end_reason(std::chrono::milliseconds timeout = 5000ms) {
    if (!wait([&] { return closed.has_value(); }, timeout))
      CAF_FAIL("the connection did not end");
    return closed->reason;
  }
};

struct fixture {
  io_thread io;
  std::unique_ptr<sim::simulator> sim;
  pem_pair pems;

  void start(bool tls = false, sim::market_options market = {}) {
    sim::simulator_options opts;
    market.tick = 5ms;
    opts.market = market;
    if (tls) {
      pems = make_self_signed({"localhost", "127.0.0.1"});
      opts.listen.tls_certificate_pem = pems.certificate;
      opts.listen.tls_private_key_pem = pems.private_key;
    }
    sim = std::make_unique<sim::simulator>(std::move(opts));
  }

  std::string url(const std::string& path = "/v2/iex", bool tls = false,
                  const std::string& host = "127.0.0.1") {
    return std::string{tls ? "wss://" : "ws://"} + host + ":"
           + std::to_string(sim->port()) + path;
  }

  std::string control_text(const std::pair<std::string, bool>& frame,
                           codec c = codec::json) {
    market_frame out;
    decode_problem problem;
    std::string bytes = frame.first;
    auto ok = c == codec::json
                ? decode_json(bytes, out, problem)
                : decode_msgpack(bytes.data(), bytes.size(), out, problem);
    if (!ok || out.controls.empty())
      return {};
    return out.controls[0].message;
  }

  void login(ws_client& client, recorder& rec, codec c = codec::json) {
    CAF_REQUIRE(rec.wait([&] { return rec.opened; }));
    auto welcome = rec.next_frame();
    CAF_REQUIRE(welcome.has_value());
    CAF_CHECK_EQUAL(control_text(*welcome, c), "connected");
    client.send(
      encode_auth(c, {secret{sim::default_key}, secret{sim::default_secret}}),
      c == codec::msgpack);
    auto reply = rec.next_frame();
    CAF_REQUIRE(reply.has_value());
    CAF_CHECK_EQUAL(control_text(*reply, c), "authenticated");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(ws_client_tests, fixture)

CAF_TEST(a plain connection authenticates and closes cleanly) {
  start();
  recorder rec;
  ws_client_options opts;
  opts.url = url();
  auto client = ws_client::connect(io, opts, rec.events());
  login(*client, rec);
  client->close();
  CAF_CHECK_EQUAL(rec.end_reason(), ws_end::closed);
}

CAF_TEST(the content type header selects msgpack) {
  start();
  recorder rec;
  ws_client_options opts;
  opts.url = url("/v2/sip");
  opts.headers["Content-Type"] = "application/msgpack";
  auto client = ws_client::connect(io, opts, rec.events());
  CAF_REQUIRE(rec.wait([&] { return rec.opened; }));
  auto welcome = rec.next_frame();
  CAF_REQUIRE(welcome.has_value());
  CAF_CHECK(welcome->second); // binary
  CAF_CHECK_EQUAL(control_text(*welcome, codec::msgpack), "connected");
}

CAF_TEST(tls verifies the certificate and the host name) {
  start(true);
  recorder good;
  ws_client_options opts;
  opts.url = url("/v2/iex", true, "localhost");
  opts.ca_pem = pems.certificate;
  auto client = ws_client::connect(io, opts, good.events());
  login(*client, good);
  recorder untrusted;
  opts.ca_pem = make_self_signed({"localhost"}).certificate;
  auto a = ws_client::connect(io, opts, untrusted.events());
  CAF_CHECK_EQUAL(untrusted.end_reason(), ws_end::certificate_invalid);
}

CAF_TEST(a trusted certificate for another host is refused) {
  // The server presents a certificate for example.com only.
  auto other = make_self_signed({"example.com"});
  sim::simulator_options sim_opts;
  sim_opts.listen.tls_certificate_pem = other.certificate;
  sim_opts.listen.tls_private_key_pem = other.private_key;
  sim = std::make_unique<sim::simulator>(std::move(sim_opts));
  recorder wrong_host;
  ws_client_options opts;
  opts.url = url("/v2/iex", true, "127.0.0.1");
  opts.ca_pem = other.certificate;
  auto client = ws_client::connect(io, opts, wrong_host.events());
  CAF_CHECK_EQUAL(wrong_host.end_reason(), ws_end::certificate_invalid);
}

CAF_TEST(refused upgrades report their status) {
  start();
  recorder not_found;
  ws_client_options opts;
  opts.url = url("/v2/nowhere");
  auto a = ws_client::connect(io, opts, not_found.events());
  CAF_CHECK_EQUAL(not_found.end_reason(), ws_end::upgrade_rejected);
  CAF_CHECK_EQUAL(not_found.closed->http_status, 404);
  sim->call([](sim::market_hub& hub) { hub.storm_429(5s); });
  recorder limited;
  opts.url = url();
  auto b = ws_client::connect(io, opts, limited.events());
  CAF_CHECK_EQUAL(limited.end_reason(), ws_end::rate_limited);
  CAF_CHECK_EQUAL(limited.closed->http_status, 429);
}

CAF_TEST(bad urls and closed ports fail with their reason) {
  start();
  recorder bad;
  ws_client_options opts;
  opts.url = "http://127.0.0.1/v2/iex";
  auto a = ws_client::connect(io, opts, bad.events());
  CAF_CHECK_EQUAL(bad.end_reason(), ws_end::bad_url);
  auto port = sim->port();
  sim.reset();
  recorder refused;
  opts.url = "ws://127.0.0.1:" + std::to_string(port) + "/v2/iex";
  auto b = ws_client::connect(io, opts, refused.events());
  CAF_CHECK_EQUAL(refused.end_reason(), ws_end::connect_failed);
}

CAF_TEST(a stalled server is detected by the pong deadline) {
  start();
  recorder rec;
  ws_client_options opts;
  opts.url = url();
  opts.ping_interval = 100ms;
  opts.pong_timeout = 200ms;
  // The close frame that follows the missed pong gets no answer either.
  opts.close_timeout = 300ms;
  auto client = ws_client::connect(io, opts, rec.events());
  login(*client, rec);
  // Pongs come while the server is healthy.
  CAF_CHECK(!rec.wait([&] { return rec.closed.has_value(); }, 500ms));
  sim->call([](sim::market_hub& hub) { hub.stall_all(); });
  // Ends within ~300 ms; the margin is for loaded sanitizer runs.
  CAF_CHECK_EQUAL(rec.end_reason(3000ms), ws_end::pong_timeout);
}

CAF_TEST(a reset is a lost connection and a server close is clean) {
  start();
  recorder reset;
  ws_client_options opts;
  opts.url = url();
  auto a = ws_client::connect(io, opts, reset.events());
  login(*a, reset);
  recorder closed;
  opts.url = url("/v2/test");
  auto b = ws_client::connect(io, opts, closed.events());
  login(*b, closed);
  sim->call([](sim::market_hub& hub) { hub.close_all(); });
  CAF_CHECK_EQUAL(closed.end_reason(), ws_end::closed);
  CAF_CHECK_EQUAL(closed.closed->close_code, 1001);
  CAF_CHECK_EQUAL(reset.end_reason(), ws_end::closed);
  recorder dropped;
  opts.url = url("/v2/sip");
  auto c = ws_client::connect(io, opts, dropped.events());
  login(*c, dropped);
  sim->call([](sim::market_hub& hub) { hub.reset_all(); });
  CAF_CHECK_EQUAL(dropped.end_reason(), ws_end::connection_lost);
}

CAF_TEST(reading pauses until frames are acknowledged) {
  sim::market_options market;
  market.records_per_second = 20000;
  start(false, market);
  recorder rec;
  ws_client_options opts;
  opts.url = url();
  opts.max_in_flight = 4;
  auto client = ws_client::connect(io, opts, rec.events());
  CAF_REQUIRE(rec.wait([&] { return rec.frames_seen >= 1; }));
  // Welcome (1 in flight); acknowledge it and log in.
  rec.frames.clear();
  client->ack(1);
  client->send(encode_auth(codec::json, {secret{sim::default_key},
                                         secret{sim::default_secret}}),
               false);
  CAF_REQUIRE(rec.wait([&] { return rec.frames_seen >= 2; }));
  client->ack(1);
  subscription_set all;
  all[channel::quotes] = {"*"};
  client->send(encode_subscribe(codec::json, all), false);
  // Without acknowledgements, at most max_in_flight frames arrive.
  std::this_thread::sleep_for(300ms);
  size_t seen;
  {
    std::lock_guard<std::mutex> guard{rec.mtx};
    seen = rec.frames_seen;
  }
  CAF_CHECK_EQUAL(seen, 2u + 4u);
  client->ack(4);
  CAF_CHECK(rec.wait([&] { return rec.frames_seen >= seen + 4; }));
}

CAF_TEST_FIXTURE_SCOPE_END()

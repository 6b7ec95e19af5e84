#include "app/trading_desk.hpp"

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/breaker.hpp"
#include "messages/error.hpp"
#include "transport/io_thread.hpp"

namespace athanor {

trading_desk::trading_desk(caf::actor_system& sys) : sys_(sys) {}

caf::expected<std::unique_ptr<trading_desk>>
trading_desk::start(caf::actor_system& sys, trading_desk_options opts) {
  std::unique_ptr<trading_desk> result{new trading_desk(sys)};
  result->io_ = std::make_shared<transport::io_thread>();
  transport::http_client_options http;
  http.base_url = opts.base_url;
  http.ca_file = opts.ca_file;
  http.max_connections = opts.max_connections;
  auto rest_cfg = std::move(opts.rest);
  rest_cfg.base_url = opts.base_url;
  rest_cfg.creds = opts.creds;
  rest_cfg.port = make_http_rest_port(result->io_, std::move(http));
  auto rest = spawn_rest_client(sys, std::move(rest_cfg));
  if (!rest)
    return rest.error();
  result->rest_ = *rest;
  auto stream_cfg = std::move(opts.stream);
  stream_cfg.url = trading_stream_url(opts.base_url);
  stream_cfg.creds = opts.creds;
  opts.link.ca_file = opts.ca_file;
  stream_cfg.links = make_ws_link_factory(result->io_, opts.link);
  auto stream = spawn_trading_session(sys, std::move(stream_cfg));
  if (!stream)
    return stream.error();
  result->stream_ = *stream;
  opts.breaker.endpoint = opts.base_url;
  auto breaker = spawn_breaker(sys, opts.breaker);
  if (!breaker)
    return breaker.error();
  result->breaker_ = *breaker;
  auto exec_cfg = std::move(opts.executor);
  exec_cfg.rest = result->rest_;
  exec_cfg.trading = result->stream_;
  exec_cfg.breaker = result->breaker_;
  exec_cfg.account = opts.creds.fingerprint();
  auto exec = spawn_executor(sys, std::move(exec_cfg));
  if (!exec)
    return exec.error();
  result->executor_ = *exec;
  return result;
}

trading_desk::~trading_desk() {
  stop();
}

caf::expected<plan_result> trading_desk::execute(plan spec,
                                                 caf::timespan timeout) {
  caf::scoped_actor self{sys_};
  caf::expected<plan_result> result{caf::error{}};
  self
    ->request(executor_, timeout, execute_atom::value, std::move(spec),
              trace::root())
    .receive([&](plan_result& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

void trading_desk::stop() {
  caf::scoped_actor self{sys_};
  auto wait_down = [&](const caf::actor& x, caf::timespan deadline) {
    bool down = false;
    self->receive_while([&] { return !down; })(
      [&](caf::down_msg& msg) {
        if (msg.source == x.address())
          down = true;
      },
      caf::after(deadline) >> [&] {
        self->send_exit(x, caf::exit_reason::kill);
        down = true;
      });
  };
  if (executor_) {
    auto x = caf::actor_cast<caf::actor>(executor_);
    self->monitor(x);
    self->send_exit(x, caf::exit_reason::user_shutdown);
    wait_down(x, std::chrono::seconds{5});
    executor_ = nullptr;
  }
  if (stream_) {
    auto x = caf::actor_cast<caf::actor>(stream_);
    self->monitor(x);
    self->send(stream_, shutdown_atom::value);
    wait_down(x, std::chrono::seconds{3});
    stream_ = nullptr;
  }
  for (auto x : {caf::actor_cast<caf::actor>(rest_),
                 caf::actor_cast<caf::actor>(breaker_)}) {
    if (!x)
      continue;
    self->monitor(x);
    self->send_exit(x, caf::exit_reason::user_shutdown);
    wait_down(x, std::chrono::seconds{2});
  }
  rest_ = nullptr;
  breaker_ = nullptr;
  io_.reset();
}

} // namespace athanor

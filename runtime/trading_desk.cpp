#include "runtime/trading_desk.hpp"

#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/resilience/breaker.hpp"
#include "actors/resilience/supervisor.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "runtime/config.hpp"
#include "transport/io_thread.hpp"

namespace athanor {

namespace {

constexpr auto call_timeout = std::chrono::seconds{10};
constexpr const char* group = "trading";

// Spawns the group; returns the executor (linked to the rest), or an
// invalid handle if a part could not start.
caf::actor start_group(caf::actor_system& sys,
                       const trading_desk_options& opts,
                       const std::shared_ptr<transport::io_thread>& io) {
  auto fail = [](const char* what, const caf::error& err) {
    log::write(log::level::error, "trading_desk", "start_failed", nullptr,
               {{"part", what}, {"error", render(err)}});
    return caf::actor{};
  };
  transport::http_client_options http;
  http.base_url = opts.base_url;
  http.ca_file = opts.ca_file;
  http.max_connections = opts.max_connections;
  auto rest_cfg = opts.rest;
  rest_cfg.base_url = opts.base_url;
  rest_cfg.creds = opts.creds;
  rest_cfg.port = make_http_rest_port(io, std::move(http));
  auto rest = spawn_rest_client(sys, std::move(rest_cfg));
  if (!rest)
    return fail("rest_client", rest.error());
  auto stream_cfg = opts.stream;
  stream_cfg.url = trading_stream_url(opts.base_url);
  stream_cfg.creds = opts.creds;
  auto link = opts.link;
  link.ca_file = opts.ca_file;
  stream_cfg.links = make_ws_link_factory(io, link);
  // The stream's endpoint has its own breaker: a failing stream must not
  // keep orders from being placed, nor failing orders the stream.
  auto stream_breaker_cfg = opts.stream_breaker;
  stream_breaker_cfg.endpoint = stream_cfg.url;
  auto stream_breaker = spawn_breaker(sys, stream_breaker_cfg);
  if (!stream_breaker) {
    caf::anon_send_exit(*rest, caf::exit_reason::user_shutdown);
    return fail("stream breaker", stream_breaker.error());
  }
  stream_cfg.breaker = *stream_breaker;
  auto stream = spawn_trading_session(sys, std::move(stream_cfg));
  if (stream)
    for (auto& listener : opts.listeners)
      caf::anon_send(*stream, listen_atom::value, listener);
  auto breaker_cfg = opts.breaker;
  breaker_cfg.endpoint = opts.base_url;
  auto breaker = spawn_breaker(sys, breaker_cfg);
  auto exec_cfg = opts.executor;
  if (stream && breaker) {
    exec_cfg.rest = *rest;
    exec_cfg.trading = *stream;
    exec_cfg.breaker = *breaker;
    exec_cfg.account = opts.creds.fingerprint();
    exec_cfg.link_dependencies = true;
    exec_cfg.group.push_back(caf::actor_cast<caf::actor>(*stream_breaker));
    if (auto exec = spawn_executor(sys, std::move(exec_cfg)))
      return caf::actor_cast<caf::actor>(*exec);
    else
      fail("executor", exec.error());
  } else {
    fail(stream ? "breaker" : "trading_session",
         stream ? breaker.error() : stream.error());
  }
  // Take down what did start.
  for (auto x : {caf::actor_cast<caf::actor>(*rest),
                 caf::actor_cast<caf::actor>(*stream_breaker),
                 stream ? caf::actor_cast<caf::actor>(*stream) : caf::actor{},
                 breaker ? caf::actor_cast<caf::actor>(*breaker)
                         : caf::actor{}})
    if (x)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  return caf::actor{};
}

// Takes `<journal>.lock` for this process, or says who holds it. The lock
// goes with the file descriptor: closed by the desk, or by the kernel when
// the process dies, so a crash never leaves a stale lock.
caf::expected<int> lock_journal(const std::string& journal_path) {
  if (journal_path == memory_journal)
    return -1; // private to this process anyway
  auto path = journal_path + ".lock";
  auto fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(engine_errc::journal_error,
                      "cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {0};
    auto n = ::pread(fd, holder, sizeof(holder) - 1, 0);
    ::close(fd);
    std::string who = n > 0 ? " (pid " + std::string{holder, size_t(n)} + ")"
                            : "";
    return make_error(engine_errc::journal_error,
                      "the journal " + journal_path
                        + " is in use by another executor" + who
                        + "; one journal serves one engine at a time (an "
                          "`athanor run` holding it can be started with "
                          "athanor.executor.in-run=false)");
  }
  auto pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0
      || ::pwrite(fd, pid.data(), pid.size(), 0)
           != static_cast<ssize_t>(pid.size()))
    log::write(log::level::warn, "trading_desk", "lock_note_failed", nullptr,
               {{"path", path}, {"error", std::strerror(errno)}});
  return fd;
}

// Creates the journal's directory (and its parents) if missing.
void make_parent_dirs(const std::string& file) {
  for (size_t slash = file.find('/', 1); slash != std::string::npos;
       slash = file.find('/', slash + 1))
    ::mkdir(file.substr(0, slash).c_str(), 0700);
}

} // namespace

trading_desk_options desk_options_of(const engine_config& cfg,
                                     std::string base_url, credentials creds,
                                     std::string journal_path) {
  trading_desk_options opts;
  opts.base_url = std::move(base_url);
  opts.creds = std::move(creds);
  auto& x = cfg.execution;
  opts.ca_file = cfg.stream.ca_file;
  opts.rest.requests_per_minute = static_cast<uint32_t>(x.requests_per_minute);
  opts.rest.request_timeout = x.request_timeout;
  opts.rest.max_attempts = static_cast<uint32_t>(x.max_attempts);
  opts.stream.backoff = cfg.reconnect;
  opts.stream.connect_timeout = cfg.stream.connect_timeout;
  opts.stream.auth_timeout = cfg.stream.auth_timeout;
  opts.stream.close_timeout = cfg.stream.close_timeout;
  opts.stream.limit_backoff = cfg.stream.limit_backoff;
  opts.stream.limit_backoff_max = cfg.stream.limit_backoff_max;
  opts.link.ping_interval = cfg.stream.ping_interval;
  opts.link.pong_timeout = cfg.stream.pong_timeout;
  opts.link.handshake_timeout = cfg.stream.connect_timeout;
  opts.breaker = cfg.breaker;
  opts.stream_breaker = stream_breaker_of(cfg);
  opts.supervisor = cfg.supervisor;
  opts.executor.journal.path = std::move(journal_path);
  opts.executor.journal.full_sync = x.journal_full_sync;
  opts.executor.ready_timeout = x.ready_timeout;
  opts.executor.default_deadline = x.default_deadline;
  opts.executor.event_timeout = x.event_timeout;
  opts.executor.cancel_grace = x.cancel_grace;
  make_parent_dirs(opts.executor.journal.path);
  return opts;
}

trading_desk::trading_desk(caf::actor_system& sys) : sys_(sys) {}

caf::expected<std::unique_ptr<trading_desk>>
trading_desk::start(caf::actor_system& sys, trading_desk_options opts) {
  // Report a bad config or an unusable journal now, not as restarts.
  opts.rest.base_url = opts.base_url;
  opts.rest.creds = opts.creds;
  opts.stream.url = trading_stream_url(opts.base_url);
  opts.stream.creds = opts.creds;
  std::vector<config_problem> problems;
  for (auto& xs : {validate(opts.executor), validate(opts.stream),
                   validate(opts.rest)})
    problems.insert(problems.end(), xs.begin(), xs.end());
  if (!problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  auto lock = lock_journal(opts.executor.journal.path);
  if (!lock)
    return lock.error();
  std::unique_ptr<trading_desk> result{new trading_desk(sys)};
  result->journal_lock_ = *lock;
  {
    std::string error;
    if (!journal::open(opts.executor.journal, error))
      return make_error(engine_errc::journal_error, error);
  }
  result->io_ = std::make_shared<transport::io_thread>();
  auto sup_cfg = opts.supervisor;
  sup_cfg.name = "trading_desk";
  result->shutdown_deadline_ = sup_cfg.shutdown_deadline;
  child_spec spec;
  spec.id = group;
  spec.start = [opts = std::move(opts), io = result->io_](
                 caf::actor_system& sys) { return start_group(sys, opts, io); };
  auto sup = spawn_supervisor(sys, std::move(sup_cfg), {std::move(spec)});
  if (!sup)
    return sup.error();
  result->supervisor_ = *sup;
  if (auto exec = result->executor(); !exec) {
    auto err = exec.error();
    result->stop();
    return err;
  }
  return result;
}

trading_desk::~trading_desk() {
  stop();
}

caf::expected<executor_actor> trading_desk::executor() {
  caf::scoped_actor self{sys_};
  caf::expected<executor_actor> result{caf::error{}};
  self->request(supervisor_, call_timeout, which_atom::value, group)
    .receive(
      [&](caf::actor& x) { result = caf::actor_cast<executor_actor>(x); },
      [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::expected<plan_result> trading_desk::execute(plan spec,
                                                 caf::timespan timeout) {
  using clock = std::chrono::steady_clock;
  // Each wait is short: an executor that died without answering (killed,
  // or a crash) must not leave us waiting for the full timeout. Asking
  // again joins the running plan; it never executes it twice. Every ask
  // carries the same trace: the executor knows this request executes the
  // plan, so its result is not reported as a replay.
  constexpr auto ask_every = std::chrono::seconds{5};
  auto caller = trace::root(spec.correlation_id);
  auto deadline = clock::now() + timeout;
  caf::expected<plan_result> result{caf::error{}};
  for (;;) {
    auto exec = executor();
    if (exec) {
      caf::scoped_actor self{sys_};
      auto left = std::chrono::duration_cast<caf::timespan>(deadline
                                                            - clock::now());
      auto wait = std::max(std::min<caf::timespan>(left, ask_every),
                           caf::timespan{1});
      self
        ->request(*exec, wait, execute_atom::value, spec, caller)
        .receive([&](plan_result& x) { result = std::move(x); },
                 [&](caf::error& err) { result = std::move(err); });
      // An answer, or an engine error: done. Otherwise the executor went
      // away or is still busy: ask (the new one) again.
      if (result || errc_of(result.error()))
        return result;
    } else {
      result = exec.error();
    }
    if (clock::now() >= deadline || stopped_)
      return result;
    if (!exec || result.error() != caf::sec::request_timeout)
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
}

caf::expected<session_status> trading_desk::stream_status() {
  auto exec = executor();
  if (!exec)
    return exec.error();
  caf::scoped_actor self{sys_};
  caf::expected<session_status> result{caf::error{}};
  self->request(*exec, call_timeout, caf::get_atom::value)
    .receive([&](session_status& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

void trading_desk::stop() {
  stopped_ = true;
  if (supervisor_) {
    caf::scoped_actor self{sys_};
    self->monitor(supervisor_);
    self->send(supervisor_, shutdown_atom::value);
    bool down = false;
    self->receive_while([&] { return !down; })(
      [&](caf::down_msg&) { down = true; },
      caf::after(shutdown_deadline_ + std::chrono::seconds{1}) >> [&] {
        self->send_exit(supervisor_, caf::exit_reason::kill);
        down = true;
      });
    supervisor_ = nullptr;
  }
  io_.reset();
  // Released last: the executor has closed the journal by now.
  if (journal_lock_ >= 0) {
    ::close(journal_lock_);
    journal_lock_ = -1;
  }
}

} // namespace athanor

// `athanor attach HOST:PORT`: a consumer in another process. Its actor
// system holds no engine, only the middleman (and caf_openssl with
// athanor.remote.certificate/key/ca-file) and the printer.

#include <cstdio>

#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "app/printers.hpp"
#include "app/run.hpp"
#include "athanor/remote.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "runtime/system_config.hpp"

namespace athanor {

int attach_command(const loaded_config& loaded, const run_request& request) {
  log::configure(loaded.config.logging);
  auto signals = block_stop_signals();
  auto where = parse_host_port(loaded.arguments.front());
  system_config sys_cfg{loaded};
  if (!sys_cfg.problem.empty()) {
    std::fprintf(stderr, "athanor: %s\n", sys_cfg.problem.c_str());
    return exit_status::config;
  }
  // Before the system: its printer points here until the system is gone.
  run_outcome outcome;
  caf::actor_system sys{sys_cfg};
  bool view = !request.json && isatty(STDOUT_FILENO) == 1;
  live_view_options view_opts;
  view_opts.channels = request.channels;
  view_opts.notices.push_back("attached to " + loaded.arguments.front());
  auto printer = view ? sys.spawn(terminal_view, &outcome, request.limit,
                                  std::move(view_opts))
                      : sys.spawn(json_printer, &outcome, request.limit);
  remote_options opts;
  opts.host = where->first;
  opts.port = where->second;
  opts.tls = loaded.config.remote.tls();
  opts.max_attempts = static_cast<uint32_t>(loaded.config.remote.max_attempts);
  opts.listener = caf::actor_cast<session_listener_actor>(printer);
  auto attached = attach(sys, opts, request.symbols, request.channels,
                         caf::actor_cast<subscriber_actor>(printer));
  if (!attached) {
    std::fprintf(stderr, "athanor: cannot attach: %s\n",
                 render(attached.error()).c_str());
    caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
    return exit_status::config;
  }
  outcome.wait(signals);
  attached->cancel();
  caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
  if (view)
    std::fputs("\n", stdout);
  return outcome.report();
}

} // namespace athanor

#pragma once

// The engine's configuration: defaults < config file (CAF's INI format) <
// environment < command line. Credentials come from the environment only.
// Loading reports every problem at once, each naming its option.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/resilience/backoff.hpp"
#include "actors/resilience/breaker_policy.hpp"
#include "actors/resilience/supervisor_config.hpp"
#include "messages/config_problem.hpp"
#include "messages/secret.hpp"
#include "observability/log.hpp"
#include "runtime/listener_pems.hpp"
#include "protocol/market_data.hpp"

namespace athanor {

/// Where Alpaca lives. `ws://`/`http://` URLs are accepted (local simulator).
struct alpaca_endpoints {
  std::string base_url = "https://paper-api.alpaca.markets";
  std::string data_url = "https://data.alpaca.markets";
  std::string data_stream_url = "wss://stream.data.alpaca.markets";
  /// One of iex, sip, delayed_sip, test.
  std::string feed = "iex";
};

/// How every stream session talks to its upstream.
struct stream_settings {
  /// JSON or MessagePack on the wire.
  protocol::codec encoding = protocol::codec::msgpack;
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds{15};
  std::chrono::nanoseconds auth_timeout = std::chrono::seconds{10};
  std::chrono::nanoseconds ack_timeout = std::chrono::seconds{10};
  /// No quote or trade of a subscribed symbol for this long reconnects; 0
  /// turns the watchdog off.
  std::chrono::nanoseconds silence_timeout = std::chrono::seconds{30};
  /// The least wait after 406 or 429, doubling per repeat up to the max.
  std::chrono::nanoseconds limit_backoff = std::chrono::seconds{1};
  std::chrono::nanoseconds limit_backoff_max = std::chrono::seconds{120};
  std::chrono::nanoseconds ping_interval = std::chrono::seconds{10};
  std::chrono::nanoseconds pong_timeout = std::chrono::seconds{5};
  std::chrono::nanoseconds close_timeout = std::chrono::seconds{1};
  /// Extra CA certificates (PEM) to trust besides the system store.
  std::string ca_file;
  bool deflate = false;
  /// Frames read ahead of the session before reading pauses.
  uint64_t max_in_flight_frames = 64;
  /// Lag (event time to receive, and to each subscriber) logged above this.
  std::chrono::nanoseconds lag_threshold = std::chrono::milliseconds{25};
};

/// Fan-out limits per subscriber.
struct fanout_settings {
  uint64_t max_in_flight = 8;
  uint64_t max_queued_records = 100'000;
  /// What all subscribers' queues of a connection may hold together.
  uint64_t max_queued_bytes = uint64_t{256} << 20;
};

/// The executor, its journal and the REST client.
struct execution_settings {
  /// The journal file; empty: $XDG_STATE_HOME/athanor/journal.db (or
  /// ~/.local/state/...), with "-sim" before ".db" on the built-in simulator
  /// (in memory for `athanor run` there).
  std::string journal_path;
  /// fsync every journal commit (survives power loss, not only a crash).
  bool journal_full_sync = true;
  /// Our own REST limit; 0 turns it off (the server's word still holds).
  uint64_t requests_per_minute = 200;
  std::chrono::nanoseconds request_timeout = std::chrono::seconds{10};
  uint64_t max_attempts = 5;
  std::chrono::nanoseconds ready_timeout = std::chrono::seconds{30};
  std::chrono::nanoseconds default_deadline = std::chrono::minutes{5};
  std::chrono::nanoseconds event_timeout = std::chrono::seconds{10};
  std::chrono::nanoseconds cancel_grace = std::chrono::seconds{10};
  /// `athanor run` also runs the executor and the account's trading stream
  /// (order updates on the gateway's /stream, order metrics).
  bool in_run = true;
};

/// athanor.admin.port unless configured (ATHANOR_ADMIN_PORT, --athanor.
/// admin.port); 0 picks any free port.
inline constexpr uint64_t default_admin_port = 9720;

/// A local listening endpoint (admin, gateway).
struct listen_settings {
  /// Loopback by default.
  std::string address = "127.0.0.1";
  /// 0 picks any free port.
  uint64_t port = 0;
  /// Serve on a non-loopback address without protection (warned on every
  /// start); without it such an address is a configuration error.
  bool insecure = false;
  /// TLS (https://, wss://) when set: the certificate chain and its private
  /// key, PEM files. Both or neither.
  std::string certificate;
  std::string key;
  /// With TLS: clients must present a certificate that verifies against
  /// this CA file (PEM); empty: any client may connect.
  std::string client_ca_file;

  bool tls() const {
    return !certificate.empty();
  }
};

/// Reads and checks `x`'s TLS files into `out` (left empty without TLS);
/// each problem names its option (`prefix` + ".certificate", ...).
std::vector<config_problem> read_listener_pems(const std::string& prefix,
                                               const listen_settings& x,
                                               listener_pems& out);

/// Recording market data to a tape (athanor run --record FILE).
struct record_settings {
  /// The tape file; empty: no recording.
  std::string file;
  /// A file reaching this size is rotated (FILE -> FILE.1 -> ...).
  uint64_t max_file_bytes = uint64_t{1} << 30;
  /// Files kept, the current one included.
  uint64_t max_files = 4;
};

/// Other processes reaching the engine over CAF's middleman (BASP).
struct remote_settings {
  /// "HOST:PORT" where `athanor run` publishes its front (`--publish`);
  /// empty: not published. Port 0 picks any free port.
  std::string publish;
  /// TLS through caf_openssl when set: this node's certificate and key
  /// (PEM) and the CA file a peer's certificate must verify against. All
  /// three or none.
  std::string certificate;
  std::string key;
  std::string ca_file;
  /// `athanor attach`: failed attempts in a row before it gives up; 0:
  /// never (it waits out engine restarts).
  uint64_t max_attempts = 0;
  /// Peers may execute plans through the front; off, execute is refused
  /// with not_permitted (subscribing stays open).
  bool execute = false;
  /// With execute: only peers proving one of these certificates may
  /// (";"-separated "sha256:AB:CD:…" fingerprints or RFC 2253 subjects);
  /// empty: every peer the transport admits. Required off loopback.
  std::string execute_peers;
  /// Publish on a non-loopback address without TLS (warned on every
  /// start); without it that is a configuration error.
  bool insecure = false;

  bool tls() const {
    return !certificate.empty();
  }
};

/// The entries of athanor.remote.execute-peers, trimmed, empty ones
/// dropped.
std::vector<std::string> execute_peers_of(const remote_settings& x);

/// Returns whether `host` names this machine only (127.0.0.0/8, ::1,
/// localhost).
bool is_loopback(const std::string& host);

struct engine_config;

/// Listeners that would serve off loopback unprotected (no TLS, no
/// `…insecure = true`), each naming its option. Part of the config's
/// validation; commands that change an address (`run --publish`) ask again.
std::vector<config_problem> listener_problems(const engine_config& cfg);

/// "HOST:PORT" split; nullopt unless both parts are there and the port is a
/// number up to 65535.
std::optional<std::pair<std::string, uint16_t>>
parse_host_port(const std::string& text);

/// The engine's defaults differ from the plain structs' in two ways:
/// jitter is on (a fleet that lost its connections together must not retry
/// in lockstep) and the seed is 0, which `load_config` replaces with one
/// drawn anew by each process. A configured seed is kept, so a schedule can
/// be reproduced.
breaker_config with_process_jitter(breaker_config x);
backoff_config with_process_jitter(backoff_config x);
supervisor_config with_process_jitter(supervisor_config x);

struct engine_config {
  /// Upstream credentials; empty means "run against the built-in simulator".
  credentials alpaca;
  /// Credentials local clients use at the gateway; empty turns it off.
  credentials gateway;
  /// ATHANOR_ADMIN_TOKEN: the bearer token the admin endpoint asks for on
  /// everything but /healthz; empty: no token (loopback only).
  secret admin_token;
  alpaca_endpoints endpoints;
  log::options logging;
  /// The default breaker config for every endpoint (its `endpoint` label is
  /// set per endpoint).
  breaker_config breaker = with_process_jitter(breaker_config{});
  supervisor_config supervisor = with_process_jitter(supervisor_config{});
  /// The stream sessions' reconnect schedule.
  backoff_config reconnect = with_process_jitter(backoff_config{});
  stream_settings stream;
  fanout_settings registry;
  execution_settings execution;
  /// The admin endpoint (/healthz, /readyz, /metrics, /status), on a
  /// fixed port by default so there is something stable to scrape.
  listen_settings admin = [] {
    listen_settings x;
    x.port = default_admin_port;
    return x;
  }();
  /// Where the gateway for local Alpaca clients listens (it is on when
  /// `gateway` credentials are set).
  listen_settings gateway_listen;
  /// Topics (symbol x channel) one gateway client may hold; a subscribe
  /// beyond it is refused whole with Alpaca's 405.
  uint64_t gateway_max_topics = 500'000;
  /// Gateway clients connected at once, in all and per IP address.
  uint64_t gateway_max_connections = 1000;
  uint64_t gateway_max_connections_per_address = 100;
  /// Failed logins from one address within a minute before its new
  /// connections are refused for `gateway_login_ban`.
  uint64_t gateway_max_failed_logins = 5;
  std::chrono::nanoseconds gateway_login_ban = std::chrono::minutes{1};
  /// A client that has not authenticated this long after connecting is
  /// closed (Alpaca's own window: error 404 "auth timeout").
  std::chrono::nanoseconds gateway_auth_timeout = std::chrono::seconds{10};
  remote_settings remote;
  record_settings record;
  /// CAF scheduler threads; 0 means one per core.
  size_t scheduler_threads = 0;

  bool uses_simulator() const {
    return alpaca.empty();
  }
};

/// The breaker of a stream's endpoint (market data, the trading stream):
/// `breaker`, opening no longer than the reconnect schedule's cap. A stream
/// that fails tries again at most every `reconnect.max` anyway; a breaker
/// held open for minutes on top of that only lengthens the outage after the
/// failures end (the soak campaign measured silences of 151 s after 6 s of
/// quiet). REST calls keep `breaker` as it is.
breaker_config stream_breaker_of(const engine_config& cfg);

/// Environment variables by name; tests pass their own.
using environment = std::map<std::string, std::string>;

/// Returns the process environment's Athanor-relevant variables.
environment process_environment();

struct loaded_config {
  engine_config config;
  /// Every problem found; the config is unusable unless this is empty.
  std::vector<config_problem> problems;
  /// The first positional argument (`run`, `check-config`...), if any.
  std::string subcommand;
  /// Positional arguments after the subcommand.
  std::vector<std::string> arguments;
  /// CAF's own options (`--scheduler.*`, `--middleman.*`) to pass on to the
  /// actor system's config.
  std::vector<std::string> caf_arguments;
  /// Where each credential came from, e.g. "ALPACA_API_KEY".
  std::string alpaca_source;
  bool help_requested = false;
};

/// Loads the configuration from `args` (without the program name) and `env`.
loaded_config load_config(const std::vector<std::string>& args,
                          const environment& env);

/// Renders `cfg` as an INI document that `load_config` accepts: every option
/// with its value. Credentials appear as fingerprints in comments only.
std::string render_ini(const engine_config& cfg);

/// Returns the journal path `cfg` asks for (see execution_settings), with
/// `env`'s XDG_STATE_HOME or HOME for the default.
/// `command` is "run" or "execute": on the simulator `run` keeps its
/// journal in memory (`memory_journal`).
std::string journal_path_of(const engine_config& cfg, const environment& env,
                            const std::string& command = "execute");

/// Returns the help text listing every option.
std::string help_text();

} // namespace athanor

#include "runtime/config.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <limits>
#include <set>
#include <sstream>

#include "caf/actor_system_config.hpp"
#include "caf/config_option_adder.hpp"
#include "caf/settings.hpp"

#include "journal/journal.hpp"
#include "runtime/config_file.hpp"
#include "transport/tls.hpp"

extern char** environ;

namespace athanor {

namespace {

// -- the option table ---------------------------------------------------------

// Options whose value is one word from a fixed set.
struct word_option {
  std::string value;
};

template<class Settings, class F>
void listener_tls_options(const char* prefix, Settings& x, F& f) {
  f(prefix, "certificate",
    "TLS: the certificate chain (PEM file); set with key, the listener "
    "speaks only TLS",
    x.certificate);
  f(prefix, "key", "TLS: the certificate's private key (PEM file)", x.key);
  f(prefix, "client-ca-file",
    "TLS: clients must present a certificate signed by this CA (PEM "
    "file); empty: any client",
    x.client_ca_file);
}

// Visits every option of `cfg` with (category, name, description, field).
// Declaring, reading, rendering and the help text all walk this one table,
// so an option cannot be declared but never read, or read but not listed.
template<class Config, class F>
void for_each_option(Config& cfg, F&& f) {
  auto& b = cfg.breaker;
  const char* brk = "athanor.breaker";
  f(brk, "failure-threshold", "consecutive failures that trip the breaker",
    b.failure_threshold);
  f(brk, "failure-rate-threshold",
    "failure rate in percent (0, 100] that trips the breaker; unset: off",
    b.failure_rate_threshold);
  f(brk, "window-type", "failure-rate window: count or time", b.window);
  f(brk, "window-size", "calls in a count window", b.window_size);
  f(brk, "window-duration", "span of a time window", b.window_duration);
  f(brk, "minimum-calls", "calls the window needs before the rate counts",
    b.minimum_calls);
  f(brk, "slow-call-duration",
    "calls at least this slow count as failures; 0s: off",
    b.slow_call_duration);
  f(brk, "open-duration", "how long the first trip keeps the breaker open",
    b.open_duration);
  f(brk, "max-open-duration", "cap of the growing open duration",
    b.max_open_duration);
  f(brk, "open-backoff-multiplier",
    "open duration growth per consecutive trip (>= 1)",
    b.open_backoff_multiplier);
  f(brk, "open-jitter", "open duration jitter fraction in [0, 1)",
    b.open_jitter);
  f(brk, "half-open-max-probes", "concurrent probes in HALF_OPEN",
    b.half_open_max_probes);
  f(brk, "success-threshold", "successful probes that close the breaker",
    b.success_threshold);
  f(brk, "min-attempt-interval", "minimum time between two permits",
    b.min_attempt_interval);
  f(brk, "probe-timeout", "a probe silent this long counts as failed",
    b.probe_timeout);
  f(brk, "max-outstanding-permits",
    "permits without an outcome that are remembered",
    b.max_outstanding_permits);
  f(brk, "seed", "seed of the open-duration jitter; 0: drawn per process",
    b.seed);

  auto& s = cfg.supervisor;
  const char* sup = "athanor.supervisor";
  f(sup, "max-restarts", "restarts allowed within period; one more escalates",
    s.max_restarts);
  f(sup, "period", "the restart-intensity window", s.period);
  f(sup, "shutdown-deadline", "an ordered shutdown kills what is left after",
    s.shutdown_deadline);
  auto backoff = [&f](const char* category, auto& x) {
    f(category, "initial-delay", "first delay", x.initial);
    f(category, "max-delay", "largest delay", x.max);
    f(category, "multiplier", "growth per attempt (>= 1)", x.multiplier);
    f(category, "jitter", "jitter fraction in [0, 1)", x.jitter);
    f(category, "stable-period", "a run this long resets the delay",
      x.stable_period);
    f(category, "seed", "seed of the jitter; 0: drawn per process", x.seed);
  };
  backoff("athanor.supervisor.restart-backoff", s.restart_backoff);
  backoff("athanor.reconnect", cfg.reconnect);

  auto& st = cfg.stream;
  const char* stm = "athanor.stream";
  f(stm, "encoding", "json or msgpack on the wire", st.encoding);
  f(stm, "connect-timeout", "from an attempt to the server's welcome",
    st.connect_timeout);
  f(stm, "auth-timeout", "from the auth message to its answer",
    st.auth_timeout);
  f(stm, "ack-timeout", "from a subscription change to its ack",
    st.ack_timeout);
  f(stm, "silence-timeout",
    "no quote or trade of a subscribed symbol this long reconnects; 0s: off",
    st.silence_timeout);
  f(stm, "limit-backoff", "least wait after 406 or 429 (doubles per repeat)",
    st.limit_backoff);
  f(stm, "limit-backoff-max", "cap of the wait after 406 or 429",
    st.limit_backoff_max);
  f(stm, "ping-interval", "WebSocket ping interval", st.ping_interval);
  f(stm, "pong-timeout", "a ping unanswered this long drops the connection",
    st.pong_timeout);
  f(stm, "close-timeout", "how long a clean close may take", st.close_timeout);
  f(stm, "ca-file", "extra trusted CA certificates (PEM); empty: system only",
    st.ca_file);
  f(stm, "deflate", "offer permessage-deflate", st.deflate);
  f(stm, "max-in-flight-frames", "frames read ahead before reading pauses",
    st.max_in_flight_frames);
  f(stm, "lag-threshold",
    "event-to-receive (and to-subscriber) lag logged above this",
    st.lag_threshold);

  const char* reg = "athanor.registry";
  f(reg, "max-in-flight", "batches a subscriber may hold unanswered",
    cfg.registry.max_in_flight);
  f(reg, "max-queued-records",
    "records (other than conflated quotes) queued per subscriber before "
    "drops",
    cfg.registry.max_queued_records);
  f(reg, "max-queued-bytes",
    "bytes all subscribers' queues of a connection hold together before "
    "drops",
    cfg.registry.max_queued_bytes);

  auto& x = cfg.execution;
  const char* jnl = "athanor.journal";
  f(jnl, "path", "the executor's journal file; empty: the default path",
    x.journal_path);
  f(jnl, "full-sync", "fsync every journal commit", x.journal_full_sync);
  const char* rst = "athanor.rest";
  f(rst, "requests-per-minute", "own REST rate limit; 0: off",
    x.requests_per_minute);
  f(rst, "request-timeout", "deadline of one REST request",
    x.request_timeout);
  f(rst, "max-attempts", "attempts of one GET before its error is returned",
    x.max_attempts);
  const char* exe = "athanor.executor";
  f(exe, "ready-timeout", "how long orders wait for the trading stream",
    x.ready_timeout);
  f(exe, "default-deadline", "deadline of a plan that sets none",
    x.default_deadline);
  f(exe, "event-timeout", "an open order silent this long is looked up",
    x.event_timeout);
  f(exe, "cancel-grace", "wait for cancels after a plan's deadline",
    x.cancel_grace);
  f(exe, "in-run",
    "athanor run also runs the executor and the trading stream; false "
    "leaves both to another process",
    x.in_run);

  const char* adm = "athanor.admin";
  f(adm, "address", "admin endpoint bind address", cfg.admin.address);
  f(adm, "port", "admin endpoint port (a fixed one to scrape); 0: any free "
                "port; env ATHANOR_ADMIN_PORT",
    cfg.admin.port);
  f(adm, "insecure",
    "serve off loopback without TLS anyway: plain http, /status and "
    "/metrics readable on the network (warned on every start)",
    cfg.admin.insecure);
  listener_tls_options(adm, cfg.admin, f);
  const char* gw = "athanor.gateway";
  f(gw, "address", "gateway bind address", cfg.gateway_listen.address);
  f(gw, "port", "gateway port; 0: any free port (on with "
                "ATHANOR_GATEWAY_KEY/SECRET)",
    cfg.gateway_listen.port);
  f(gw, "insecure",
    "serve off loopback without TLS anyway: plain ws://, gateway "
    "credentials cross the network in clear (warned on every start)",
    cfg.gateway_listen.insecure);
  listener_tls_options(gw, cfg.gateway_listen, f);
  f(gw, "max-connections",
    "clients connected at once; one more gets error 406 and is closed",
    cfg.gateway_max_connections);
  f(gw, "max-connections-per-address",
    "clients from one IP address at once; one more gets error 406",
    cfg.gateway_max_connections_per_address);
  f(gw, "max-failed-logins",
    "failed logins from one address within a minute before its new "
    "connections are refused (error 429) for login-ban",
    cfg.gateway_max_failed_logins);
  f(gw, "login-ban",
    "how long an address is refused after too many failed logins; each "
    "further ban doubles (up to 64x) until it has been quiet for an hour",
    cfg.gateway_login_ban);
  f(gw, "auth-timeout",
    "a client that has not authenticated this long after connecting gets "
    "error 404 (auth timeout) and is closed, as Alpaca does",
    cfg.gateway_auth_timeout);
  f(gw, "max-topics-per-client",
    "topics (symbol x channel) one gateway client may hold; a subscribe "
    "beyond it is refused with error 405",
    cfg.gateway_max_topics);

  const char* rec = "athanor.record";
  f(rec, "file",
    "record every market-data frame to this tape file (athanor replay "
    "reads it); empty: off",
    cfg.record.file);
  f(rec, "max-file-bytes", "a tape file this large is rotated to FILE.1",
    cfg.record.max_file_bytes);
  f(rec, "max-files", "tape files kept, the current one included",
    cfg.record.max_files);

  auto& r = cfg.remote;
  const char* rem = "athanor.remote";
  f(rem, "publish",
    "HOST:PORT where athanor run publishes its front over BASP; empty: off",
    r.publish);
  f(rem, "certificate", "TLS: this node's certificate (PEM); empty: plain",
    r.certificate);
  f(rem, "key", "TLS: this node's private key (PEM)", r.key);
  f(rem, "ca-file", "TLS: the CA a peer's certificate must verify against",
    r.ca_file);
  f(rem, "max-attempts",
    "athanor attach: failed attempts in a row before giving up; 0: never",
    r.max_attempts);
  f(rem, "execute",
    "peers may execute plans through the published front; off: refused "
    "with not_permitted",
    r.execute);
  f(rem, "execute-peers",
    "with execute: only peers proving one of these certificates may "
    "execute (';'-separated sha256:AB:CD:... fingerprints or subjects "
    "like CN=desk-1,O=Example); empty: any peer TLS admits; required off "
    "loopback",
    r.execute_peers);
  f(rem, "insecure",
    "publish off loopback without TLS anyway: any peer that reaches the "
    "port attaches (warned on every start)",
    r.insecure);

  auto& e = cfg.endpoints;
  const char* alp = "athanor.alpaca";
  f(alp, "base-url", "trading REST base; env ALPACA_BASE_URL", e.base_url);
  f(alp, "data-url", "market-data REST base; env ALPACA_DATA_URL", e.data_url);
  f(alp, "data-stream-url",
    "market-data stream base; env ALPACA_DATA_STREAM_URL", e.data_stream_url);
  f(alp, "feed", "iex, sip, delayed_sip or test; env ALPACA_FEED", e.feed);

  const char* lg = "athanor.log";
  f(lg, "format", "human or json (JSON lines)", cfg.logging.fmt);
  f(lg, "level", "trace, debug, info, warn, error, critical or off",
    cfg.logging.min_level);

  f("athanor", "scheduler-threads", "actor threads; 0: one per core",
    cfg.scheduler_threads);
}

// Environment variables that set options, with the SDKs' aliases.
struct env_binding {
  const char* option;
  std::vector<const char*> names;
};

const std::vector<env_binding>& env_bindings() {
  static const std::vector<env_binding> bindings{
    {"athanor.alpaca.base-url", {"ALPACA_BASE_URL", "APCA_API_BASE_URL"}},
    {"athanor.alpaca.data-url", {"ALPACA_DATA_URL", "APCA_API_DATA_URL"}},
    {"athanor.alpaca.data-stream-url", {"ALPACA_DATA_STREAM_URL"}},
    {"athanor.alpaca.feed", {"ALPACA_FEED"}},
    {"athanor.log.format", {"ATHANOR_LOG_FORMAT"}},
    {"athanor.log.level", {"ATHANOR_LOG_LEVEL"}},
    {"athanor.admin.port", {"ATHANOR_ADMIN_PORT"}},
  };
  return bindings;
}

// -- rendering values ---------------------------------------------------------

std::string render_duration(std::chrono::nanoseconds x) {
  struct unit {
    int64_t ns;
    const char* suffix;
  };
  static constexpr unit units[] = {{3'600'000'000'000, "h"},
                                   {60'000'000'000, "min"},
                                   {1'000'000'000, "s"},
                                   {1'000'000, "ms"},
                                   {1'000, "us"}};
  auto count = x.count();
  if (count == 0)
    return "0s";
  for (auto& u : units)
    if (count % u.ns == 0)
      return std::to_string(count / u.ns) + u.suffix;
  return std::to_string(count) + "ns";
}

std::string render_double(double x) {
  std::ostringstream out;
  out.precision(15);
  out << x;
  auto str = out.str();
  if (str.find_first_of(".eE") == std::string::npos)
    str += ".0";
  return str;
}

std::string quote(const std::string& x) {
  std::string result = "\"";
  for (auto c : x) {
    if (c == '"' || c == '\\')
      result += '\\';
    result += c;
  }
  return result + '"';
}

std::string to_word(window_kind x) {
  return x == window_kind::count ? "count" : "time";
}

std::string render_value(uint32_t x) {
  return std::to_string(x);
}
std::string render_value(uint64_t x) {
  return std::to_string(x);
}
std::string render_value(double x) {
  return render_double(x);
}
std::string render_value(const std::string& x) {
  return quote(x);
}
std::string render_value(std::chrono::nanoseconds x) {
  return render_duration(x);
}
std::string render_value(bool x) {
  return quote(x ? "true" : "false");
}
std::string render_value(protocol::codec x) {
  return quote(protocol::to_string(x));
}
std::string render_value(window_kind x) {
  return quote(to_word(x));
}
std::string render_value(log::format x) {
  return quote(log::to_string(x));
}
std::string render_value(log::level x) {
  return quote(log::to_string(x));
}

// -- the CAF side -------------------------------------------------------------

// What CAF stores an option as.
template<class T>
struct caf_type {
  using type = T;
};
template<>
struct caf_type<uint32_t> {
  using type = size_t;
};
template<>
struct caf_type<uint64_t> {
  using type = size_t;
};
template<>
struct caf_type<std::optional<double>> {
  using type = double;
};
template<>
struct caf_type<std::chrono::nanoseconds> {
  using type = caf::timespan;
};
template<>
struct caf_type<window_kind> {
  using type = std::string;
};
// CAF 0.17 parses "--flag=true" for no bool option, so flags are words.
template<>
struct caf_type<bool> {
  using type = std::string;
};
template<>
struct caf_type<protocol::codec> {
  using type = std::string;
};
template<>
struct caf_type<log::format> {
  using type = std::string;
};
template<>
struct caf_type<log::level> {
  using type = std::string;
};

template<class T>
const char* type_label() {
  using U = typename caf_type<T>::type;
  if constexpr (std::is_same_v<U, size_t>)
    return "a non-negative integer";
  else if constexpr (std::is_same_v<U, double>)
    return "a number";
  else if constexpr (std::is_same_v<U, caf::timespan>)
    return "a duration such as 500ms, 30s or 2min";

  else
    return "a string";
}

class engine_system_config : public caf::actor_system_config {
 public:
  engine_system_config() {
    engine_config defaults;
    for_each_option(defaults, [this](const char* category, const char* name,
                                     const char* description, auto& field) {
      using T = std::decay_t<decltype(field)>;
      opt_group{custom_options_, category}
        .template add<typename caf_type<T>::type>(name, description);
      type_labels[std::string{category} + "." + name] = type_label<T>();
    });
  }

  std::map<std::string, std::string> type_labels;
};

static_assert(std::is_same_v<size_t, uint64_t>,
              "option_reader assumes a 64-bit size_t");

class option_reader {
 public:
  option_reader(const caf::actor_system_config& cfg,
                std::vector<config_problem>& problems)
      : cfg_(cfg), problems_(problems) {}

  template<class T>
  void
  operator()(const char* category, const char* name, const char*, T& field) {
    auto key = std::string{category} + "." + name;
    using U = typename caf_type<T>::type;
    auto value = caf::get_if<U>(&cfg_, key);
    if (!value)
      return;
    assign(key, *value, field);
  }

 private:
  void assign(const std::string& key, size_t value, uint32_t& field) {
    if (value > std::numeric_limits<uint32_t>::max())
      problems_.push_back({key, "must be at most 4294967295"});
    else
      field = static_cast<uint32_t>(value);
  }
  // size_t and uint64_t are one type here; a static_assert below says so.
  void assign(const std::string&, size_t value, uint64_t& field) {
    field = value;
  }
  void assign(const std::string&, double value, double& field) {
    field = value;
  }
  void assign(const std::string&, double value, std::optional<double>& field) {
    field = value;
  }
  void assign(const std::string&, const std::string& value,
              std::string& field) {
    field = value;
  }
  void assign(const std::string&, caf::timespan value,
              std::chrono::nanoseconds& field) {
    field = value;
  }
  void assign(const std::string& key, const std::string& value,
              bool& field) {
    if (value == "true" || value == "on" || value == "yes")
      field = true;
    else if (value == "false" || value == "off" || value == "no")
      field = false;
    else
      problems_.push_back({key, "must be true or false (got '" + value + "')"});
  }
  void assign(const std::string& key, const std::string& value,
              protocol::codec& field) {
    if (value == "json")
      field = protocol::codec::json;
    else if (value == "msgpack")
      field = protocol::codec::msgpack;
    else
      problems_.push_back(
        {key, "must be json or msgpack (got '" + value + "')"});
  }
  void assign(const std::string& key, const std::string& value,
              window_kind& field) {
    if (value == "count")
      field = window_kind::count;
    else if (value == "time")
      field = window_kind::time;
    else
      problems_.push_back({key, "must be count or time (got '" + value + "')"});
  }
  void assign(const std::string& key, const std::string& value,
              log::format& field) {
    if (auto x = log::parse_format(value))
      field = *x;
    else
      problems_.push_back({key, "must be human or json (got '" + value + "')"});
  }
  void assign(const std::string& key, const std::string& value,
              log::level& field) {
    if (auto x = log::parse_level(value))
      field = *x;
    else
      problems_.push_back(
        {key, "must be one of trace, debug, info, warn, error, critical, off "
              "(got '"
                + value + "')"});
  }

  const caf::actor_system_config& cfg_;
  std::vector<config_problem>& problems_;
};

// Returns the option an argument like "--athanor.x.y=1" names.
std::string option_name(const std::string& arg) {
  auto body = arg.substr(arg.find_first_not_of('-'));
  return body.substr(0, body.find('='));
}

std::string option_value(const std::string& arg) {
  auto eq = arg.find('=');
  return eq == std::string::npos ? std::string{} : arg.substr(eq + 1);
}

// Parses one command-line option on its own, so every bad one is reported.
std::optional<config_problem> probe_option(const std::string& arg) {
  engine_system_config probe;
  std::istringstream no_file;
  auto err = probe.parse(caf::actor_system_config::string_list{arg}, no_file);
  if (!err)
    return std::nullopt;
  auto name = option_name(arg);
  auto label = probe.type_labels.find(name);
  if (label == probe.type_labels.end())
    return config_problem{name, "unknown option"};
  return config_problem{name, "cannot parse '" + option_value(arg) + "' as "
                                + label->second};
}

// The config file as command-line arguments, so it is held to the same
// rules: every entry must name a known option and parse as its type (a
// quoted number is a string, as it would be anywhere else); each problem
// names the file and line. CAF's own options go to `caf`.
struct file_args {
  std::vector<std::string> engine;
  std::vector<std::string> caf;
};

file_args file_arguments(const std::string& text, const std::string& file,
                         std::vector<config_problem>& problems) {
  file_args result;
  engine_system_config known;
  std::vector<std::string> names;
  std::set<std::string> sections;
  for (auto& [name, label] : known.type_labels) {
    names.push_back(name);
    sections.insert(name.substr(0, name.rfind('.')));
  }
  for (auto& entry : parse_config_file(text, file, problems)) {
    auto where = where_in(file, entry.line);
    auto arg = "--" + entry.option + "=" + entry.value;
    if (entry.quoted) {
      // Quoted again for CAF's parser, which reads "" as the empty string.
      std::string escaped;
      for (auto c : entry.value) {
        if (c == '"' || c == '\\')
          escaped += '\\';
        escaped += c;
      }
      arg = "--" + entry.option + "=\"" + escaped + "\"";
    }
    auto label = known.type_labels.find(entry.option);
    if (label == known.type_labels.end()) {
      if (!probe_option(arg)) {
        result.caf.push_back(arg); // one of CAF's own (scheduler.*, ...)
        continue;
      }
      auto section = entry.option.substr(0, entry.option.rfind('.'));
      auto known_section = sections.count(section) > 0
                           || section.rfind("athanor.", 0) != 0;
      std::string hint;
      if (!known_section) {
        auto near = nearest_name(section, {sections.begin(), sections.end()});
        if (!near.empty())
          hint = " (did you mean [" + near + "]?)";
        problems.push_back({entry.option, where + ": unknown section ["
                                            + section + "]" + hint});
      } else {
        auto near = nearest_name(entry.option, names);
        if (!near.empty())
          hint = " (did you mean " + near + "?)";
        problems.push_back({entry.option, where + ": unknown option" + hint});
      }
      continue;
    }
    if (entry.quoted && label->second != std::string{"a string"}) {
      problems.push_back({entry.option, where + ": expects " + label->second
                                          + ", not a quoted string (write "
                                          + entry.value + " without quotes)"});
      continue;
    }
    if (auto problem = probe_option(arg)) {
      problems.push_back({entry.option, where + ": " + problem->message});
      continue;
    }
    result.engine.push_back(arg);
  }
  return result;
}

// -- validation ---------------------------------------------------------------

void validate_url(const std::string& option, const std::string& url,
                  std::initializer_list<const char*> schemes,
                  std::vector<config_problem>& problems) {
  for (auto scheme : schemes) {
    std::string prefix = std::string{scheme} + "://";
    if (url.compare(0, prefix.size(), prefix) == 0
        && url.size() > prefix.size())
      return;
  }
  std::string allowed;
  for (auto scheme : schemes)
    allowed += (allowed.empty() ? "" : " or ") + std::string{scheme} + "://";
  problems.push_back({option, "must start with " + allowed
                                + " and name a "
                                  "host (got '"
                                + url + "')"});
}

void validate(const engine_config& cfg, std::vector<config_problem>& problems) {
  auto add_all = [&](std::vector<config_problem> xs) {
    problems.insert(problems.end(), xs.begin(), xs.end());
  };
  add_all(validate(cfg.breaker, "athanor.breaker."));
  add_all(validate(cfg.supervisor, "athanor.supervisor."));
  add_all(validate(cfg.reconnect, "athanor.reconnect."));
  auto& st = cfg.stream;
  auto positive = [&](const char* option, std::chrono::nanoseconds x) {
    if (x.count() <= 0)
      problems.push_back({std::string{"athanor.stream."} + option,
                          "must be positive"});
  };
  positive("connect-timeout", st.connect_timeout);
  positive("auth-timeout", st.auth_timeout);
  positive("ack-timeout", st.ack_timeout);
  positive("limit-backoff", st.limit_backoff);
  positive("ping-interval", st.ping_interval);
  positive("pong-timeout", st.pong_timeout);
  positive("close-timeout", st.close_timeout);
  positive("lag-threshold", st.lag_threshold);
  if (st.silence_timeout.count() < 0)
    problems.push_back({"athanor.stream.silence-timeout",
                        "must not be negative (0s turns it off)"});
  if (st.limit_backoff_max < st.limit_backoff)
    problems.push_back({"athanor.stream.limit-backoff-max",
                        "must be at least limit-backoff"});
  if (st.max_in_flight_frames == 0)
    problems.push_back({"athanor.stream.max-in-flight-frames",
                        "must be at least 1"});
  if (!st.ca_file.empty() && !std::ifstream{st.ca_file})
    problems.push_back({"athanor.stream.ca-file",
                        "cannot read '" + st.ca_file + "'"});
  if (cfg.registry.max_in_flight == 0)
    problems.push_back({"athanor.registry.max-in-flight",
                        "must be at least 1"});
  if (cfg.registry.max_queued_records == 0)
    problems.push_back({"athanor.registry.max-queued-records",
                        "must be at least 1"});
  if (cfg.registry.max_queued_bytes == 0)
    problems.push_back({"athanor.registry.max-queued-bytes",
                        "must be at least 1"});
  auto& x = cfg.execution;
  auto positive_x = [&](const char* option, std::chrono::nanoseconds d) {
    if (d.count() <= 0)
      problems.push_back({option, "must be positive"});
  };
  positive_x("athanor.rest.request-timeout", x.request_timeout);
  positive_x("athanor.executor.ready-timeout", x.ready_timeout);
  positive_x("athanor.executor.default-deadline", x.default_deadline);
  positive_x("athanor.executor.event-timeout", x.event_timeout);
  positive_x("athanor.executor.cancel-grace", x.cancel_grace);
  if (x.max_attempts == 0)
    problems.push_back({"athanor.rest.max-attempts", "must be at least 1"});
  for (auto [name, x] : {std::pair{"athanor.admin", &cfg.admin},
                         std::pair{"athanor.gateway", &cfg.gateway_listen}}) {
    if (x->port > 65535)
      problems.push_back({std::string{name} + ".port",
                          "must be at most 65535 (got "
                            + std::to_string(x->port) + ")"});
    if (x->address.empty())
      problems.push_back({std::string{name} + ".address",
                          "must not be empty"});
  }
  for (auto [name, x] : {std::pair{"athanor.admin", &cfg.admin},
                         std::pair{"athanor.gateway", &cfg.gateway_listen}}) {
    listener_pems unused;
    auto tls = read_listener_pems(name, *x, unused);
    problems.insert(problems.end(), tls.begin(), tls.end());
  }
  auto exposed = listener_problems(cfg);
  problems.insert(problems.end(), exposed.begin(), exposed.end());
  for (auto [option, value] :
       {std::pair{"athanor.gateway.max-connections",
                  cfg.gateway_max_connections},
        std::pair{"athanor.gateway.max-connections-per-address",
                  cfg.gateway_max_connections_per_address},
        std::pair{"athanor.gateway.max-failed-logins",
                  cfg.gateway_max_failed_logins}})
    if (value == 0)
      problems.push_back({option, "must be at least 1"});
  if (cfg.gateway_login_ban.count() <= 0)
    problems.push_back({"athanor.gateway.login-ban", "must be positive"});
  if (cfg.gateway_auth_timeout.count() <= 0)
    problems.push_back({"athanor.gateway.auth-timeout", "must be positive"});
  if (cfg.gateway_max_topics == 0)
    problems.push_back({"athanor.gateway.max-topics-per-client",
                        "must be at least 1"});
  if (cfg.record.max_file_bytes < 4096)
    problems.push_back({"athanor.record.max-file-bytes",
                        "must be at least 4096"});
  if (cfg.record.max_files == 0 || cfg.record.max_files > 1000)
    problems.push_back({"athanor.record.max-files", "must be 1..1000"});
  auto& r = cfg.remote;
  if (!r.publish.empty() && !parse_host_port(r.publish))
    problems.push_back({"athanor.remote.publish",
                        "must be HOST:PORT (got '" + r.publish + "')"});
  auto tls_files = {std::pair{"certificate", &r.certificate},
                    std::pair{"key", &r.key},
                    std::pair{"ca-file", &r.ca_file}};
  bool any_tls = false;
  for (auto [name, path] : tls_files)
    any_tls = any_tls || !path->empty();
  for (auto [name, path] : tls_files) {
    auto option = std::string{"athanor.remote."} + name;
    if (any_tls && path->empty())
      problems.push_back({option, "must be set too: TLS needs certificate, "
                                  "key and ca-file"});
    else if (!path->empty() && !std::ifstream{*path})
      problems.push_back({option, "cannot read '" + *path + "'"});
  }
  auto& e = cfg.endpoints;
  validate_url("athanor.alpaca.base-url", e.base_url, {"https", "http"},
               problems);
  validate_url("athanor.alpaca.data-url", e.data_url, {"https", "http"},
               problems);
  validate_url("athanor.alpaca.data-stream-url", e.data_stream_url,
               {"wss", "ws"}, problems);
  if (e.feed != "iex" && e.feed != "sip" && e.feed != "delayed_sip"
      && e.feed != "test")
    problems.push_back(
      {"athanor.alpaca.feed",
       "must be iex, sip, delayed_sip or test (got '" + e.feed + "')"});
}

// Reads a credential from the first set variable of `names`; two set to
// different values is a problem rather than a silent choice.
secret read_credential(const environment& env,
                       std::initializer_list<const char*> names,
                       std::string& source,
                       std::vector<config_problem>& problems) {
  std::optional<std::string> value;
  std::string first;
  for (auto name : names) {
    auto i = env.find(name);
    if (i == env.end() || i->second.empty())
      continue;
    if (!value) {
      value = i->second;
      first = name;
    } else if (*value != i->second) {
      problems.push_back(
        {name, "disagrees with " + first + "; set only one of them"});
    }
  }
  source = first;
  return value ? secret{*value} : secret{};
}

void read_credentials(const environment& env, loaded_config& result) {
  auto& problems = result.problems;
  std::string key_source;
  std::string secret_source;
  auto& alpaca = result.config.alpaca;
  alpaca.key_id = read_credential(env, {"ALPACA_API_KEY", "APCA_API_KEY_ID"},
                                  key_source, problems);
  // ALPACA_SECRET_KEY: the name alpaca-py's examples use.
  alpaca.secret_key = read_credential(
    env, {"ALPACA_API_SECRET", "APCA_API_SECRET_KEY", "ALPACA_SECRET_KEY"},
    secret_source, problems);
  if (alpaca.key_id.empty() != alpaca.secret_key.empty())
    problems.push_back(
      {alpaca.key_id.empty() ? "ALPACA_API_KEY" : "ALPACA_API_SECRET",
       "is missing: set both the key id and the secret, or neither to use "
       "the built-in simulator"});
  result.alpaca_source = key_source;
  auto& gateway = result.config.gateway;
  std::string unused;
  gateway.key_id = read_credential(env, {"ATHANOR_GATEWAY_KEY"}, unused,
                                   problems);
  gateway.secret_key = read_credential(env, {"ATHANOR_GATEWAY_SECRET"}, unused,
                                       problems);
  if (gateway.key_id.empty() != gateway.secret_key.empty())
    problems.push_back(
      {gateway.key_id.empty() ? "ATHANOR_GATEWAY_KEY"
                              : "ATHANOR_GATEWAY_SECRET",
       "is missing: the gateway needs both, or neither to stay off"});
  result.config.admin_token = read_credential(env, {"ATHANOR_ADMIN_TOKEN"},
                                              unused, problems);
}

} // namespace

std::vector<config_problem> read_listener_pems(const std::string& prefix,
                                               const listen_settings& x,
                                               listener_pems& out) {
  std::vector<config_problem> problems;
  auto read = [&](const char* name, const std::string& path,
                  std::string& pem) {
    auto text = read_file(path);
    if (!text) {
      problems.push_back({prefix + "." + name, "cannot read '" + path + "'"});
      return false;
    }
    pem = std::move(*text);
    return true;
  };
  if (x.certificate.empty()) {
    for (auto [name, value] : {std::pair{"key", &x.key},
                               std::pair{"client-ca-file", &x.client_ca_file}})
      if (!value->empty())
        problems.push_back({prefix + "." + name,
                            "needs " + prefix + ".certificate too (TLS)"});
    return problems;
  }
  if (x.key.empty()) {
    problems.push_back({prefix + ".key", "must be set too: TLS needs the "
                                         "certificate's private key"});
    return problems;
  }
  if (!read("certificate", x.certificate, out.certificate)
      || !read("key", x.key, out.key))
    return problems;
  if (auto why = transport::pem_problem(out.certificate, {}); !why.empty())
    problems.push_back(
      {prefix + ".certificate", "'" + x.certificate + "' " + why});
  else if (auto why = transport::pem_problem(out.certificate, out.key);
           !why.empty())
    problems.push_back({prefix + ".key", "'" + x.key + "' " + why});
  if (!x.client_ca_file.empty()
      && read("client-ca-file", x.client_ca_file, out.client_ca)) {
    if (auto why = transport::pem_problem(out.client_ca, {}); !why.empty())
      problems.push_back(
        {prefix + ".client-ca-file", "'" + x.client_ca_file + "' " + why});
  }
  if (!problems.empty())
    out = listener_pems{};
  return problems;
}

std::vector<std::string> execute_peers_of(const remote_settings& x) {
  std::vector<std::string> result;
  std::stringstream in{x.execute_peers};
  for (std::string entry; std::getline(in, entry, ';');) {
    auto first = entry.find_first_not_of(" \t");
    if (first == std::string::npos)
      continue;
    auto last = entry.find_last_not_of(" \t");
    result.push_back(entry.substr(first, last - first + 1));
  }
  return result;
}

std::vector<config_problem> listener_problems(const engine_config& cfg) {
  std::vector<config_problem> problems;
  // Off loopback every listener is protected, or it does not start.
  auto exposed = [&](const std::string& option, const std::string& host,
                     bool insecure, const std::string& risk) {
    if (!host.empty() && !is_loopback(host) && !insecure)
      problems.push_back(
        {option, "'" + host + "' is not loopback and " + risk
                   + "; bind to 127.0.0.1, or accept it with "
                   + option.substr(0, option.rfind('.')) + ".insecure=true"});
  };
  if (!cfg.admin.tls())
    exposed("athanor.admin.address", cfg.admin.address, cfg.admin.insecure,
            "the admin endpoint has no TLS (set athanor.admin.certificate "
            "and key; without, /status and /metrics cross the network in "
            "clear)");
  if (!is_loopback(cfg.admin.address) && cfg.admin_token.empty())
    problems.push_back({"ATHANOR_ADMIN_TOKEN",
                        "is required with athanor.admin.address off loopback "
                        "('" + cfg.admin.address + "'): every request but "
                        "/healthz must carry it as a bearer token"});
  if (!cfg.gateway.empty() && !cfg.gateway_listen.tls())
    exposed("athanor.gateway.address", cfg.gateway_listen.address,
            cfg.gateway_listen.insecure,
            "the gateway has no TLS (set athanor.gateway.certificate and key; "
            "without, its credentials cross the network in clear)");
  auto where = parse_host_port(cfg.remote.publish);
  if (where && !cfg.remote.tls())
    exposed("athanor.remote.publish", where->first, cfg.remote.insecure,
            "publishing without TLS lets any peer that reaches it attach");
  auto peers = execute_peers_of(cfg.remote);
  if (!peers.empty() && !cfg.remote.tls())
    problems.push_back({"athanor.remote.execute-peers",
                        "needs TLS (athanor.remote.certificate, key and "
                        "ca-file): the proving certificates verify against "
                        "the CA file"});
  for (auto& entry : peers)
    if (entry.rfind("sha256:", 0) != 0 && entry.find('=') == std::string::npos)
      problems.push_back({"athanor.remote.execute-peers",
                          "'" + entry + "' is neither a sha256: fingerprint "
                          "nor a subject like CN=desk-1"});
  if (where && cfg.remote.execute && peers.empty()
      && !is_loopback(where->first))
    problems.push_back({"athanor.remote.execute-peers",
                        "is required with athanor.remote.execute=true off "
                        "loopback ('" + where->first + "'): name the "
                        "certificates that may execute plans"});
  return problems;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]"
         || host.rfind("127.", 0) == 0;
}

std::optional<std::pair<std::string, uint16_t>>
parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  auto digits = text.substr(colon + 1);
  if (digits.size() > 5
      || digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  auto port = std::stoul(digits);
  if (port > 65535)
    return std::nullopt;
  return std::pair{text.substr(0, colon), static_cast<uint16_t>(port)};
}

std::string journal_path_of(const engine_config& cfg, const environment& env,
                            const std::string& command) {
  if (!cfg.execution.journal_path.empty())
    return cfg.execution.journal_path;
  std::string dir;
  if (auto i = env.find("XDG_STATE_HOME"); i != env.end() && !i->second.empty())
    dir = i->second + "/athanor";
  else if (auto j = env.find("HOME"); j != env.end() && !j->second.empty())
    dir = j->second + "/.local/state/athanor";
  else
    dir = ".";
  if (!cfg.uses_simulator())
    return dir + "/journal.db";
  // The simulator's orders vanish with it, so its plans are kept apart.
  // Every `run` starts a simulator of its own: its journal lives (and
  // dies) with it, and two runs never contend for one file.
  return command == "run" ? std::string{memory_journal}
                          : dir + "/journal-sim.db";
}

environment process_environment() {
  environment result;
  auto wanted = [](const std::string& name) {
    return name.rfind("ALPACA_", 0) == 0 || name.rfind("APCA_", 0) == 0
           || name.rfind("ATHANOR_", 0) == 0 || name == "HOME"
           || name == "XDG_STATE_HOME";
  };
  for (auto entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string line{*entry};
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    auto name = line.substr(0, eq);
    if (wanted(name))
      result.emplace(std::move(name), line.substr(eq + 1));
  }
  return result;
}

breaker_config with_process_jitter(breaker_config x) {
  x.open_jitter = 0.2;
  x.seed = 0;
  return x;
}

breaker_config stream_breaker_of(const engine_config& cfg) {
  auto result = cfg.breaker;
  auto cap = std::chrono::duration_cast<std::chrono::nanoseconds>(
    cfg.reconnect.max);
  result.open_duration = std::min(result.open_duration, cap);
  result.max_open_duration = std::min(result.max_open_duration, cap);
  return result;
}

backoff_config with_process_jitter(backoff_config x) {
  x.jitter = 0.2;
  x.seed = 0;
  return x;
}

supervisor_config with_process_jitter(supervisor_config x) {
  x.restart_backoff = with_process_jitter(x.restart_backoff);
  return x;
}

namespace {

void draw_unset_seeds(engine_config& cfg) {
  std::random_device entropy;
  // 63 bits: CAF's INI and command line read integers as int64_t, and a
  // rendered config must load back.
  auto draw = [&](uint64_t& seed) {
    while (seed == 0)
      seed = ((uint64_t{entropy()} << 32) | entropy()) >> 1;
  };
  draw(cfg.breaker.seed);
  draw(cfg.reconnect.seed);
  draw(cfg.supervisor.restart_backoff.seed);
}

} // namespace

loaded_config load_config(const std::vector<std::string>& args,
                          const environment& env) {
  loaded_config result;
  auto& problems = result.problems;
  // Sort the arguments: subcommand and positionals, --config-file, the
  // engine's options and CAF's own.
  std::optional<std::string> config_file;
  std::vector<std::string> option_args;
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      result.help_requested = true;
    } else if (arg.rfind("--config-file=", 0) == 0) {
      config_file = option_value(arg);
    } else if (arg == "--config-file") {
      if (i + 1 < args.size())
        config_file = args[++i];
      else
        problems.push_back({"--config-file", "needs a path"});
    } else if (arg.rfind("--athanor.", 0) == 0) {
      // "--athanor.x.y VALUE" as well as "--athanor.x.y=VALUE".
      if (arg.find('=') == std::string::npos && i + 1 < args.size()
          && args[i + 1].rfind("-", 0) != 0)
        option_args.push_back(arg + "=" + args[++i]);
      else
        option_args.push_back(arg);
    } else if (arg.rfind("--", 0) == 0) {
      result.caf_arguments.push_back(arg);
    } else if (result.subcommand.empty()) {
      result.subcommand = arg;
    } else {
      result.arguments.push_back(arg);
    }
  }
  // CAF's own options (scheduler.max-threads, ...) are checked here too;
  // an undotted unknown flag is the command's to report (it knows its own).
  for (auto& arg : result.caf_arguments)
    if (option_name(arg).find('.') != std::string::npos)
      if (auto problem = probe_option(arg))
        problems.push_back(std::move(*problem));
  std::vector<std::string> good_args;
  for (auto& arg : option_args) {
    if (auto problem = probe_option(arg))
      problems.push_back(std::move(*problem));
    else
      good_args.push_back(arg);
  }
  // Command line over environment: drop environment values for options the
  // command line sets.
  std::set<std::string> set_on_cli;
  for (auto& arg : good_args)
    set_on_cli.insert(option_name(arg));
  for (auto& binding : env_bindings()) {
    if (set_on_cli.count(binding.option) > 0)
      continue;
    for (auto name : binding.names) {
      auto i = env.find(name);
      if (i != env.end() && !i->second.empty()) {
        good_args.push_back(std::string{"--"} + binding.option + "="
                            + i->second);
        break;
      }
    }
  }
  // The environment goes first so the command line wins.
  std::stable_partition(good_args.begin(), good_args.end(),
                        [&](const std::string& arg) {
                          return set_on_cli.count(option_name(arg)) == 0;
                        });
  if (config_file) {
    auto text = read_file(*config_file);
    if (!text) {
      problems.push_back({"config-file", "cannot read '" + *config_file + "'"});
    } else {
      auto from_file = file_arguments(*text, *config_file, problems);
      // Lowest precedence: before the environment and the command line.
      good_args.insert(good_args.begin(), from_file.engine.begin(),
                       from_file.engine.end());
      result.caf_arguments.insert(result.caf_arguments.begin(),
                                  from_file.caf.begin(), from_file.caf.end());
    }
  }
  std::istringstream ini;
  engine_system_config cfg;
  if (auto err = cfg.parse(good_args, ini))
    problems.push_back({config_file ? *config_file : std::string{"arguments"},
                        caf::to_string(err)});
  option_reader reader{cfg, problems};
  for_each_option(result.config, reader);
  read_credentials(env, result);
  draw_unset_seeds(result.config);
  validate(result.config, problems);
  return result;
}

std::string render_ini(const engine_config& cfg) {
  std::ostringstream out;
  out << "; Athanor configuration (CAF's INI format). Precedence: defaults <\n"
         "; this file (--config-file=PATH) < environment < command line\n"
         "; (--athanor.breaker.failure-threshold=5). Credentials come from\n"
         "; the environment only: ALPACA_API_KEY / ALPACA_API_SECRET (or the\n"
         "; SDKs' APCA_API_KEY_ID / APCA_API_SECRET_KEY); without them the\n"
         "; engine runs against its built-in simulator.\n";
  if (!cfg.alpaca.empty())
    out << "; alpaca credentials: key fingerprint " << cfg.alpaca.fingerprint()
        << "\n";
  else
    out << "; alpaca credentials: none (built-in simulator)\n";
  if (!cfg.gateway.empty())
    out << "; gateway credentials: key fingerprint "
        << cfg.gateway.fingerprint() << "\n";
  else
    out << "; gateway credentials: none (gateway off)\n";
  if (!cfg.admin_token.empty())
    out << "; admin token: fingerprint " << cfg.admin_token.fingerprint()
        << "\n";
  std::string current;
  auto copy = cfg;
  for_each_option(copy, [&](const char* category, const char* name,
                            const char* description, auto& field) {
    if (current != category) {
      current = category;
      out << "\n[" << category << "]\n";
    }
    out << "; " << description << "\n";
    using T = std::decay_t<decltype(field)>;
    if constexpr (std::is_same_v<T, std::optional<double>>) {
      if (field)
        out << name << " = " << render_double(*field) << "\n";
      else
        out << "; " << name << " = 50.0\n";
    } else {
      out << name << " = " << render_value(field) << "\n";
    }
  });
  return out.str();
}

std::string help_text() {
  std::ostringstream out;
  out << "usage: athanor COMMAND [--config-file=PATH] [--athanor.OPTION=VALUE"
         "...]\n\n"
         "commands:\n"
         "  run [--symbols A,B] [--channels quotes,trades,bars] [--limit N]\n"
         "      [--json]   stream market data: a live view on a terminal, else\n"
         "                 one JSON line per record (Alpaca's shape) on stdout;\n"
         "                 without credentials from a built-in simulator;\n"
         "      [--publish HOST:PORT]  also serve other processes over BASP\n"
         "      [--record FILE]  record every market-data frame to a tape\n"
         "      [--backfill trades,bars]  repair gaps from the REST history\n"
         "  attach HOST:PORT [--symbols ...] [--channels ...] [--limit N]\n"
         "      [--json]   print the records of an engine published elsewhere,\n"
         "                 re-attaching when it restarts\n"
         "  execute PLAN.json [--json] [--engine HOST:PORT] [--dry-run]\n"
         "                 execute a rebalance plan exactly once and print a\n"
         "                 result per item; the same plan_id again prints the\n"
         "                 recorded result; without credentials on a built-in\n"
         "                 simulator; --engine: on a running engine published\n"
         "                 with `run --publish`; --dry-run: check the plan\n"
         "                 against the account (buying power, positions,\n"
         "                 assets) and print what would be sent, placing\n"
         "                 nothing\n"
         "  replay FILE... [--pace fast|recorded] [--symbols ...] [--json]\n"
         "                 play a tape from run --record through the same\n"
         "                 session and output: the same records and gaps\n"
         "  check-config   validate configuration and environment, print the\n"
         "                 effective configuration (secrets as fingerprints)\n"
         "  --version      print the version\n\n"
         "options (defaults in brackets):\n";
  engine_config defaults;
  for_each_option(defaults, [&](const char* category, const char* name,
                                const char* description, auto& field) {
    using T = std::decay_t<decltype(field)>;
    out << "  --" << category << "." << name << "\n      " << description;
    if constexpr (std::is_same_v<T, std::optional<double>>)
      out << " [unset]\n";
    else
      out << " [" << render_value(field) << "]\n";
  });
  out << "\nenvironment:\n";
  for (auto& binding : env_bindings()) {
    out << "  ";
    for (size_t i = 0; i < binding.names.size(); ++i)
      out << (i > 0 ? " | " : "") << binding.names[i];
    out << "  ->  " << binding.option << "\n";
  }
  out << "  ALPACA_API_KEY | APCA_API_KEY_ID, ALPACA_API_SECRET | "
         "APCA_API_SECRET_KEY\n"
         "  ATHANOR_GATEWAY_KEY, ATHANOR_GATEWAY_SECRET\n"
         "  ATHANOR_ADMIN_TOKEN (the admin endpoint's bearer token)\n";
  return out.str();
}

} // namespace athanor

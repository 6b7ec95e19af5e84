#include "actors/market/connection_lifecycle.hpp"

#include <algorithm>

#include "messages/error.hpp"
#include "observability/log.hpp"

namespace athanor {

namespace {

// The wait after 406 or 429, jittered like the reconnects but drawn apart
// from them; reset once the server takes us (and by a stable run).
backoff_config limit_schedule(const lifecycle_config& cfg) {
  backoff_config result;
  result.initial = cfg.limit_backoff;
  result.max = cfg.limit_backoff_max;
  result.multiplier = 2.0;
  result.jitter = cfg.backoff.jitter;
  result.stable_period = cfg.backoff.stable_period;
  result.seed = cfg.backoff.seed ^ 0x406406406406ULL;
  return result;
}

double to_ms(std::chrono::nanoseconds x) {
  return static_cast<double>(x.count()) / 1e6;
}

} // namespace

connection_ending ending_of(const link_closed& x) {
  connection_ending result;
  result.link_gone = true;
  result.detail = to_string(x.reason);
  if (!x.detail.empty())
    result.detail += ": " + x.detail;
  switch (x.reason) {
    case link_end::closed:
    case link_end::connection_lost:
    case link_end::timeout:
      result.errc = engine_errc::connection_lost;
      break;
    case link_end::bad_url:
      result.errc = engine_errc::invalid_config;
      break;
    case link_end::resolve_failed:
    case link_end::connect_failed:
      result.errc = engine_errc::connect_failed;
      break;
    case link_end::tls_failed:
      result.errc = engine_errc::tls_failed;
      break;
    case link_end::certificate_invalid:
      result.errc = engine_errc::certificate_invalid;
      break;
    case link_end::upgrade_rejected:
      // A 4xx says the request is wrong (path, feed, key): retrying cannot
      // help. A 5xx is the server's trouble.
      result.errc = x.http_status >= 400 && x.http_status < 500
                      ? engine_errc::upgrade_rejected
                      : engine_errc::server_error;
      result.detail = "HTTP " + std::to_string(x.http_status) + " "
                      + result.detail;
      break;
    case link_end::rate_limited:
      result.errc = engine_errc::rate_limited;
      result.long_wait = true;
      break;
    case link_end::pong_timeout:
      result.errc = engine_errc::pong_timeout;
      break;
  }
  return result;
}

connection_lifecycle::connection_lifecycle(lifecycle_config cfg,
                                           lifecycle_host& host)
  : cfg_(std::move(cfg)),
    host_(host),
    backoff_(cfg_.backoff),
    limit_backoff_(limit_schedule(cfg_)) {
  status_.endpoint = cfg_.url;
  status_.fingerprint = cfg_.fingerprint;
  status_.epoch = cfg_.first_epoch;
}

void connection_lifecycle::set_state(session_state to, const trace& cause,
                                     const caf::error* err) {
  auto from = status_.state;
  if (from == to && err == nullptr)
    return;
  ++generation_;
  status_.state = to;
  if (err != nullptr)
    note_error(*err);
  auto lvl = to == session_state::failed        ? log::level::error
             : to == session_state::backing_off ? log::level::warn
                                                : log::level::info;
  if (err != nullptr)
    log::write(lvl, cfg_.component, "state_change", &cause,
               {{"endpoint", cfg_.url},
                {"key", cfg_.fingerprint},
                {"from", to_string(from)},
                {"to", to_string(to)},
                {"epoch", status_.epoch},
                {"error", status_.last_error}});
  else
    log::write(lvl, cfg_.component, "state_change", &cause,
               {{"endpoint", cfg_.url},
                {"key", cfg_.fingerprint},
                {"from", to_string(from)},
                {"to", to_string(to)},
                {"epoch", status_.epoch}});
  host_.announce(status_);
}

void connection_lifecycle::note_error(const caf::error& err) {
  status_.last_error = render(err);
  auto code = errc_of(err);
  status_.last_errc = code ? to_string(*code) : "";
}

void connection_lifecycle::arm_stage(caf::timespan after) {
  host_.arm_timeout(after, generation_);
}

// -- the cycle ----------------------------------------------------------------

void connection_lifecycle::begin_attempt() {
  attempt_ = root_.caused();
  set_state(session_state::connecting, attempt_);
  arm_stage(cfg_.connect_timeout);
  if (cfg_.guarded)
    host_.ask_permit(generation_, attempt_);
  else
    open_link();
}

bool connection_lifecycle::stale(uint64_t generation) const {
  return generation != generation_
         || status_.state != session_state::connecting;
}

void connection_lifecycle::on_permit(uint64_t generation, uint64_t permit) {
  if (stale(generation)) {
    // Given back at once: the attempt it was for is gone.
    host_.give_outcome(permit, call_outcome::ignored, attempt_);
    return;
  }
  permit_ = permit;
  open_link();
}

bool connection_lifecycle::on_permit_refused(uint64_t generation,
                                             const caf::error& err) {
  if (stale(generation))
    return false;
  auto wait = retry_after(err).value_or(std::chrono::nanoseconds{0});
  back_off(err, std::max(wait, backoff_.next_delay()));
  return true;
}

void connection_lifecycle::open_link() {
  ++status_.epoch;
  log::write(log::level::debug, cfg_.component, "connect", &attempt_,
             {{"endpoint", cfg_.url}, {"epoch", status_.epoch}});
  current_.open(host_.make_link(status_.epoch), status_.epoch);
}

void connection_lifecycle::report_outcome(call_outcome outcome) {
  if (!permit_)
    return;
  host_.give_outcome(*permit_, outcome, attempt_);
  permit_.reset();
}

// The server took us: whatever held its slot or limited our upgrades has
// cleared, so the next 406 or 429 (a new ghost, a new storm) waits from the
// start of the limit schedule again. Drops still need a stable run.
void connection_lifecycle::on_ready() {
  report_outcome(call_outcome::success);
  ready_at_ = host_.now();
  limit_backoff_.reset();
}

void connection_lifecycle::end(const connection_ending& how) {
  if (how.link_gone)
    current_.drop_current();
  else
    current_.close_current();
  auto err = make_error(how.errc, how.detail);
  report_outcome(outcome_of(how.errc));
  if (ready_at_) {
    auto ran = host_.now() - *ready_at_;
    backoff_.note_run(ran);
    limit_backoff_.note_run(ran);
    ready_at_.reset();
  }
  if (is_fatal(how.errc)) {
    set_state(session_state::failed, attempt_, &err);
    return;
  }
  // A refusal (406, 429) waits on its own schedule alone: it says nothing
  // of how stable the server is, so it does not lengthen the next drop's
  // wait either.
  back_off(err, how.long_wait ? limit_backoff_.next_delay()
                              : backoff_.next_delay());
}

void connection_lifecycle::back_off(const caf::error& err,
                                    std::chrono::nanoseconds delay) {
  current_.close_current();
  ready_at_.reset();
  set_state(session_state::backing_off, attempt_, &err);
  log::write(log::level::info, cfg_.component, "retry_scheduled", &attempt_,
             {{"endpoint", cfg_.url}, {"delay_ms", to_ms(delay)}});
  host_.arm_retry(delay, generation_);
}

bool connection_lifecycle::on_retry(uint64_t generation) {
  if (generation != generation_
      || status_.state != session_state::backing_off)
    return false;
  begin_attempt();
  return true;
}

bool connection_lifecycle::stop(caf::timespan close_timeout) {
  report_outcome(call_outcome::ignored);
  set_state(session_state::stopped, root_);
  ready_at_.reset();
  if (!current_)
    return false;
  current_->close();
  arm_stage(close_timeout);
  return true;
}

} // namespace athanor

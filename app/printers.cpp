#include "app/printers.hpp"

#include <cstdio>
#include <map>

#include <sys/ioctl.h>
#include <unistd.h>

#include "caf/event_based_actor.hpp"

#include "messages/atoms.hpp"
#include "messages/record_kinds.hpp"
#include "observability/log.hpp"
#include "protocol/market_data.hpp"

namespace athanor {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

int exit_code_of(const std::string& errc) {
  if (errc == "auth_failed" || errc == "insufficient_subscription"
      || errc == "insufficient_scope")
    return exit_status::no_permission;
  // The session kept crashing: a defect, not the network.
  if (errc == "restart_intensity_exceeded")
    return exit_status::software;
  return exit_status::unavailable;
}

std::string advice_for(const std::string& errc) {
  if (errc == "auth_failed")
    return " - check ALPACA_API_KEY and ALPACA_API_SECRET";
  if (errc == "insufficient_subscription")
    return " - the account's plan lacks this feed; try ALPACA_FEED=iex";
  if (errc == "certificate_invalid")
    return " - the server's certificate did not verify; see "
           "athanor.stream.ca-file";
  if (errc == "upgrade_rejected")
    return " - check ALPACA_DATA_STREAM_URL and ALPACA_FEED";
  return "";
}

// A session that failed for good ends the run with one clear message.
void on_status(run_outcome& outcome, const session_status& x) {
  if (x.state != session_state::failed)
    return;
  outcome.finish(exit_code_of(x.last_errc),
                 "athanor: cannot stream from " + x.endpoint + ": "
                   + x.last_error
                   + (x.fingerprint.empty()
                        ? ""
                        : " (key fingerprint " + x.fingerprint + ")")
                   + advice_for(x.last_errc));
}

// -- JSON lines ---------------------------------------------------------------

// One record per line in Alpaca's own shape ("T":"q" for a quote), kinds in
// declaration order.
// A backfilled record says so: "backfill":true after its own fields.
std::string json_lines(const batch& x) {
  std::string out;
  batch one;
  for_each_kind(one, x, [&](auto& single, auto& records) {
    for (auto& record : records) {
      single.assign(1, record);
      auto frame = protocol::encode_batch(protocol::codec::json, one);
      // The frame is "[{...}]"; a line is the object.
      out.append(frame, 1, frame.size() - (x.backfill ? 3 : 2));
      if (x.backfill)
        out += ",\"backfill\":true}";
      out += '\n';
    }
    single.clear();
  });
  return out;
}

std::string json_escaped(const std::string& text) {
  std::string out;
  for (auto c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20)
      out += c;
  }
  return out;
}

// A gap as a line of its own, in the same style: {"T":"gap",...}.
std::string json_line(const gap& x) {
  std::string out = "{\"T\":\"gap\",\"reason\":\"" + to_string(x.reason)
                    + "\",\"since\":" + std::to_string(x.since)
                    + ",\"epoch\":" + std::to_string(x.epoch)
                    + ",\"dropped\":" + std::to_string(x.dropped)
                    + ",\"topics\":[";
  for (size_t i = 0; i < x.topics.size(); ++i)
    out += (i > 0 ? ",\"" : "\"") + to_string(x.topics[i]) + "\"";
  out += "]";
  if (!x.detail.empty())
    out += ",\"detail\":\"" + json_escaped(x.detail) + "\"";
  return out + "}\n";
}

// Keeps the first `n` records, in the order json_lines prints them.
batch first_records(const batch& x, size_t n) {
  batch result;
  for_each_kind(result, x, [&n](auto& to, auto& from) {
    auto k = std::min(n, from.size());
    to.assign(from.begin(), from.begin() + static_cast<ptrdiff_t>(k));
    n -= k;
  });
  return result;
}

} // namespace

void run_outcome::wait(const sigset_t& signals) {
  const timespec poll{0, 100'000'000};
  while (!done) {
    auto sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig == SIGINT || sig == SIGTERM) {
      log::info("engine", "signal", {{"signal", sig == SIGINT ? "SIGINT"
                                                              : "SIGTERM"}});
      return;
    }
  }
}

int run_outcome::report() {
  std::lock_guard<std::mutex> guard{mtx};
  if (!message.empty())
    std::fprintf(stderr, "%s\n", message.c_str());
  return exit_code;
}

caf::behavior json_printer(caf::event_based_actor*, run_outcome* outcome,
                           uint64_t limit) {
  auto printed = std::make_shared<uint64_t>(0);
  return {
    [=](const batch& x) {
      if (outcome->done)
        return;
      auto text = limit > 0 && *printed + x.size() > limit
                    ? json_lines(first_records(x, limit - *printed))
                    : json_lines(x);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      *printed += x.size();
      if (limit > 0 && *printed >= limit)
        outcome->finish(exit_status::ok, "");
    },
    [=](const gap& x) {
      auto text = json_line(x);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    },
    [=](const session_status& x) { on_status(*outcome, x); },
    // Answered once everything sent before it is printed (replay's end).
    [](flush_atom) {},
  };
}

namespace {

constexpr auto view_refresh = std::chrono::milliseconds{500};

// The terminal's size, asked at every refresh so a resize shows at once;
// 24 x 80 when stdout is not a terminal that says.
std::pair<int, int> terminal_size() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0
      && ws.ws_col > 0)
    return {ws.ws_row, ws.ws_col};
  return {24, 80};
}

} // namespace

caf::behavior terminal_view(caf::event_based_actor* self, run_outcome* outcome,
                            uint64_t limit, live_view_options opts) {
  auto view = std::make_shared<live_view>(std::move(opts));
  auto now = [self] { return self->clock().now(); };
  view->tick(now());
  self->delayed_send(self, view_refresh, tick_atom::value);
  return {
    [=](const batch& x) {
      view->on_batch(x, now());
      if (limit > 0 && view->records() >= limit)
        outcome->finish(exit_status::ok, "");
    },
    [=](const gap& x) { view->on_gap(x); },
    [=](const session_status& x) {
      view->on_status(x);
      on_status(*outcome, x);
    },
    [](flush_atom) {},
    [=](tick_atom) {
      view->tick(now());
      auto [rows, cols] = terminal_size();
      auto screen = "\x1b[H\x1b[2J" + view->render(now(), rows, cols);
      std::fwrite(screen.data(), 1, screen.size(), stdout);
      std::fflush(stdout);
      self->delayed_send(self, view_refresh, tick_atom::value);
    },
  };
}

} // namespace athanor

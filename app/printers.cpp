#include "app/printers.hpp"

#include <cstdio>
#include <map>

#include "caf/event_based_actor.hpp"

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
std::string json_lines(const batch& x) {
  std::string out;
  batch one;
  for_each_kind(one, x, [&](auto& single, auto& records) {
    for (auto& record : records) {
      single.assign(1, record);
      auto frame = protocol::encode_batch(protocol::codec::json, one);
      // The frame is "[{...}]"; a line is the object.
      out.append(frame, 1, frame.size() - 2);
      out += '\n';
    }
    single.clear();
  });
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
  return out + "]}\n";
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
  };
}

namespace {

// -- the terminal view ---------------------------------------------------------

struct view_state {
  session_status status;
  std::map<std::string, quote> quotes;
  std::map<std::string, trade> trades;
  uint64_t records = 0;
  uint64_t records_at_last_tick = 0;
  double rate = 0;
  uint64_t gaps = 0;
  std::string last_gap;
};

constexpr auto view_refresh = std::chrono::milliseconds{500};

void render(const view_state& st) {
  std::string out = "\x1b[H\x1b[2J";
  char line[256];
  std::snprintf(line, sizeof(line),
                "athanor  %s  epoch %llu  key %s\n"
                "state %-14s records %llu  %.0f/s  gaps %llu %s\n",
                st.status.endpoint.c_str(),
                static_cast<unsigned long long>(st.status.epoch),
                st.status.fingerprint.c_str(),
                to_string(st.status.state).c_str(),
                static_cast<unsigned long long>(st.records), st.rate,
                static_cast<unsigned long long>(st.gaps), st.last_gap.c_str());
  out += line;
  if (!st.status.last_error.empty())
    out += "last error: " + st.status.last_error + "\n";
  out += "\nsymbol        bid      ask        bid sz   ask sz    last trade\n";
  for (auto& [symbol, q] : st.quotes) {
    auto t = st.trades.find(symbol);
    char last[32] = "-";
    if (t != st.trades.end())
      std::snprintf(last, sizeof(last), "%.2f", t->second.price);
    std::snprintf(line, sizeof(line), "%-8s %10.2f %10.2f %8.0f %8.0f %12s\n",
                  symbol.c_str(), q.bid_price, q.ask_price, q.bid_size,
                  q.ask_size, last);
    out += line;
  }
  out += "\nCtrl-C to stop\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

} // namespace

caf::behavior terminal_view(caf::event_based_actor* self, run_outcome* outcome,
                            uint64_t limit) {
  auto st = std::make_shared<view_state>();
  self->delayed_send(self, view_refresh, tick_atom::value);
  return {
    [=](const batch& x) {
      st->records += x.size();
      for (auto& q : x.quotes)
        st->quotes[q.symbol] = q;
      for (auto& t : x.trades)
        st->trades[t.symbol] = t;
      if (limit > 0 && st->records >= limit)
        outcome->finish(exit_status::ok, "");
    },
    [=](const gap& x) {
      ++st->gaps;
      st->last_gap = "(last: " + to_string(x.reason) + ")";
    },
    [=](const session_status& x) {
      st->status = x;
      on_status(*outcome, x);
    },
    [=](tick_atom) {
      auto seconds = std::chrono::duration<double>(view_refresh).count();
      st->rate = static_cast<double>(st->records - st->records_at_last_tick)
                 / seconds;
      st->records_at_last_tick = st->records;
      render(*st);
      self->delayed_send(self, view_refresh, tick_atom::value);
    },
  };
}

} // namespace athanor

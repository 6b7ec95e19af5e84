#include "app/live_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace athanor {

namespace {

std::string printed(const char* format, ...) __attribute__((format(printf, 1, 2)));

std::string printed(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof(buf), format, args);
  va_end(args);
  return buf;
}

bool has(const std::vector<channel>& xs, channel x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

std::string price_text(double x) {
  return price_text(x, x);
}

std::string price_text(double x, double scale) {
  if (!std::isfinite(x) || (x == 0 && scale == x))
    return "-";
  auto size = std::abs(scale);
  if (size >= 1)
    return printed("%.2f", x);
  if (size >= 0.01)
    return printed("%.4f", x);
  return printed("%.8f", x);
}

std::string size_text(double x) {
  if (!std::isfinite(x))
    return "-";
  if (x == std::floor(x) && std::abs(x) < 1e15)
    return printed("%.0f", x);
  return printed("%.6g", x);
}

std::string age_text(std::chrono::nanoseconds x) {
  auto s = std::chrono::duration<double>(x).count();
  if (s < 10)
    return printed("%.1f s", std::max(0.0, s));
  if (s < 120)
    return printed("%.0f s", s);
  return printed("%.0f min", s / 60);
}

live_view::live_view(live_view_options opts) : opts_(std::move(opts)) {
  auto& xs = opts_.channels;
  quotes_pane_ = has(xs, channel::quotes);
  trades_pane_ = has(xs, channel::trades);
  bars_pane_ = has(xs, channel::bars) || has(xs, channel::updated_bars)
               || has(xs, channel::daily_bars);
}

void live_view::on_batch(const batch& x, time_point now) {
  records_ += x.size();
  for (auto& q : x.quotes)
    quotes_[q.symbol] = {q, now};
  for (auto& t : x.trades)
    trades_[t.symbol] = {t, now};
  for (auto& b : x.bars)
    bars_[b.symbol] = {b, now};
}

void live_view::on_gap(const gap& x) {
  ++gaps_;
  last_gap_ = "(last: " + to_string(x.reason) + ")";
}

void live_view::on_status(const session_status& x) {
  status_ = x;
}

void live_view::tick(time_point now) {
  if (ticked_) {
    auto seconds = std::chrono::duration<double>(now - last_tick_).count();
    if (seconds > 0)
      rate_ = static_cast<double>(records_ - records_at_tick_) / seconds;
  }
  ticked_ = true;
  last_tick_ = now;
  records_at_tick_ = records_;
}

std::vector<std::string> live_view::header() const {
  std::vector<std::string> out;
  out.push_back("athanor  " + status_.endpoint + "  epoch "
                + std::to_string(status_.epoch) + "  key "
                + status_.fingerprint);
  out.push_back(printed("state %-14s records %llu  %.0f/s  gaps %llu %s",
                        to_string(status_.state).c_str(),
                        static_cast<unsigned long long>(records_), rate_,
                        static_cast<unsigned long long>(gaps_),
                        last_gap_.c_str()));
  for (auto& x : opts_.notices)
    out.push_back("* " + x);
  if (!status_.last_error.empty())
    out.push_back("last error: " + status_.last_error);
  return out;
}

std::string live_view::age_column(time_point now, time_point at) const {
  auto age = now - at;
  auto text = age_text(age);
  return age > opts_.stale_after ? text + " STALE" : text;
}

namespace {

// Appends a pane: its title line, then rows while the budget lasts, then
// how many were left out.
template <class Map, class Line>
void pane(const char* title, const Map& rows, size_t budget,
          std::vector<std::string>& out, Line line) {
  out.push_back("");
  out.push_back(title);
  if (rows.empty()) {
    out.push_back("  (none yet)");
    return;
  }
  // Title and blank line are counted; one row is always shown.
  auto room = std::max<size_t>(budget > 2 ? budget - 2 : 0, 1);
  auto shown = rows.size() <= room ? rows.size() : room - (room > 1 ? 1 : 0);
  size_t k = 0;
  for (auto& [symbol, x] : rows) {
    if (k++ == shown)
      break;
    out.push_back(line(symbol, x));
  }
  if (shown < rows.size())
    out.push_back(printed("  ... %zu more (a taller terminal shows more; "
                          "--json prints every record)",
                          rows.size() - shown));
}

} // namespace

void live_view::pane_of_quotes(time_point now, size_t budget,
                               std::vector<std::string>& out) const {
  pane("QUOTES   symbol            bid          ask       spread     bid sz"
       "     ask sz  age",
       quotes_, budget, out, [&](const std::string& symbol, auto& x) {
         auto& q = x.latest;
         auto spread = q.bid_price > 0 && q.ask_price > 0
                         ? price_text(q.ask_price - q.bid_price, q.bid_price)
                         : std::string{"-"};
         return printed("         %-12s %12s %12s %12s %10s %10s  %s",
                        symbol.c_str(), price_text(q.bid_price).c_str(),
                        price_text(q.ask_price).c_str(), spread.c_str(),
                        size_text(q.bid_size).c_str(),
                        size_text(q.ask_size).c_str(),
                        age_column(now, x.at).c_str());
       });
}

void live_view::pane_of_trades(time_point now, size_t budget,
                               std::vector<std::string>& out) const {
  pane("TRADES   symbol          price         size  age", trades_, budget,
       out, [&](const std::string& symbol, auto& x) {
         auto& t = x.latest;
         return printed("         %-12s %12s %12s  %s", symbol.c_str(),
                        price_text(t.price).c_str(),
                        size_text(t.size).c_str(),
                        age_column(now, x.at).c_str());
       });
}

void live_view::pane_of_bars(time_point now, size_t budget,
                             std::vector<std::string>& out) const {
  pane("BARS     symbol           open         high          low        close"
       "       volume  age",
       bars_, budget, out, [&](const std::string& symbol, auto& x) {
         auto& b = x.latest;
         return printed("         %-12s %12s %12s %12s %12s %12s  %s",
                        symbol.c_str(), price_text(b.open).c_str(),
                        price_text(b.high).c_str(), price_text(b.low).c_str(),
                        price_text(b.close).c_str(),
                        size_text(b.volume).c_str(),
                        age_column(now, x.at).c_str());
       });
}

std::string live_view::render(time_point now, int rows, int cols) const {
  auto lines = header();
  const std::string footer = "Ctrl-C to stop";
  auto panes = static_cast<size_t>(quotes_pane_) + trades_pane_ + bars_pane_;
  auto used = lines.size() + 2; // the footer and the line before it
  auto left = static_cast<size_t>(std::max(rows, 0)) > used
                ? static_cast<size_t>(rows) - used
                : 0;
  if (panes == 0) {
    lines.push_back("");
    lines.push_back("no table for these channels; records are counted above "
                    "(--json prints them)");
  } else {
    auto each = left / panes;
    if (quotes_pane_)
      pane_of_quotes(now, each, lines);
    if (trades_pane_)
      pane_of_trades(now, each, lines);
    if (bars_pane_)
      pane_of_bars(now, each, lines);
  }
  lines.push_back("");
  lines.push_back(footer);
  // A terminal shorter than the header keeps the header's start and the
  // footer.
  if (rows > 0 && lines.size() > static_cast<size_t>(rows)) {
    lines.resize(std::max(rows - 1, 0));
    lines.push_back(footer);
  }
  std::string out;
  for (auto& x : lines) {
    if (cols > 0 && x.size() > static_cast<size_t>(cols))
      out.append(x, 0, static_cast<size_t>(cols));
    else
      out += x;
    out += '\n';
  }
  return out;
}

} // namespace athanor

#pragma once

// What the terminal view of `athanor run` and `athanor attach` shows: a
// pane per subscribed kind (quotes with spread, trades, bars), each row
// with its age so a frozen symbol is marked stale, prices at the precision
// they need, the notices that matter (where the admin and gateway listen,
// the simulator), all cut to the terminal's rows and columns. A plain
// class: the view actor feeds it records and the clock's readings and
// prints what render() returns.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages/market.hpp"
#include "messages/stream.hpp"

namespace athanor {

struct live_view_options {
  /// The panes: quotes, trades, and bars (any bar channel).
  std::vector<channel> channels;
  /// Shown under the header for the whole run.
  std::vector<std::string> notices;
  /// A row without news for this long is marked stale.
  std::chrono::nanoseconds stale_after = std::chrono::seconds{5};
};

/// "189.12", "0.3412", "0.00001234": two decimals from 1 up, more below.
std::string price_text(double x);

/// `x` at the precision of prices near `scale` (a spread of 189.12/189.14
/// is "0.02", not "0.0200").
std::string price_text(double x, double scale);

/// "100", "0.0125": whole sizes without decimals.
std::string size_text(double x);

/// "0.3 s", "12 s", "3 min".
std::string age_text(std::chrono::nanoseconds x);

class live_view {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit live_view(live_view_options opts);

  void on_batch(const batch& x, time_point now);
  void on_gap(const gap& x);
  void on_status(const session_status& x);

  /// Updates records/s over the time since the previous tick.
  void tick(time_point now);

  /// The screen: at most `rows` lines of at most `cols` characters.
  std::string render(time_point now, int rows, int cols) const;

  uint64_t records() const {
    return records_;
  }

 private:
  template <class Record>
  struct row {
    Record latest;
    time_point at;
  };

  std::vector<std::string> header() const;
  void pane_of_quotes(time_point now, size_t budget,
                      std::vector<std::string>& out) const;
  void pane_of_trades(time_point now, size_t budget,
                      std::vector<std::string>& out) const;
  void pane_of_bars(time_point now, size_t budget,
                    std::vector<std::string>& out) const;
  std::string age_column(time_point now, time_point at) const;

  live_view_options opts_;
  bool quotes_pane_ = false;
  bool trades_pane_ = false;
  bool bars_pane_ = false;
  session_status status_;
  std::map<std::string, row<quote>> quotes_;
  std::map<std::string, row<trade>> trades_;
  std::map<std::string, row<bar>> bars_;
  uint64_t records_ = 0;
  uint64_t records_at_tick_ = 0;
  time_point last_tick_{};
  bool ticked_ = false;
  double rate_ = 0;
  uint64_t gaps_ = 0;
  std::string last_gap_;
};

} // namespace athanor

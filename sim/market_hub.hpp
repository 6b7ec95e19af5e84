#pragma once

// The simulator's market-data stream: Alpaca's protocol on /v2/{feed} and
// /v1beta3/crypto/{loc} - welcome, auth by message or headers, the auth
// timeout, one session per (key, endpoint) with an optional ghost period,
// all-or-nothing subscription changes with full acks, a seeded tape, slow
// clients dropped with 407 - plus fault injection. Every member runs on the
// server's I/O thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "messages/history.hpp"
#include "messages/market.hpp"
#include "tape/tape.hpp"
#include "transport/server.hpp"

namespace athanor::sim {

/// An API key the simulator accepts, with its plan.
struct sim_account {
  std::string key;
  std::string secret;
  /// Feeds the plan includes ("iex", "sip", "delayed_sip", "test",
  /// "crypto"); empty means all.
  std::set<std::string> feeds;
  /// Distinct trade and quote symbols allowed; 0 means unlimited.
  size_t symbol_limit = 0;
  /// Whether "*" is allowed for trades and quotes.
  bool wildcard = true;
};

struct market_options {
  std::chrono::nanoseconds auth_timeout = std::chrono::seconds{10};
  /// After an unclean drop the slot stays taken this long (Alpaca: ~90 s).
  std::chrono::nanoseconds ghost_period{0};
  /// A stalled connection (stall_all) is dropped by the server this long
  /// after the stall, freeing its slot then (no ghost period follows): a
  /// real server times a silent peer out too. 0: held until reset or stop.
  std::chrono::nanoseconds stall_hold = std::chrono::seconds{30};
  /// A client with more than this queued is dropped with 407.
  size_t max_queued_bytes = 8u << 20;
  /// Records per second, over all symbols of interest.
  double records_per_second = 1000;
  std::chrono::nanoseconds tick = std::chrono::milliseconds{10};
  std::chrono::nanoseconds bar_interval = std::chrono::minutes{1};
  /// At most this many records per frame.
  size_t max_batch = 100;
  /// The symbols "*" stands for.
  std::vector<std::string> universe;
  /// Symbols outside `universe` are accepted but never trade (as most of a
  /// whole-market subscription is quiet at any moment); otherwise every
  /// subscribed symbol shares the rate.
  bool quiet_outside_universe = false;
  uint64_t seed = 1;
  /// Offer permessage-deflate.
  bool deflate = true;
  /// Upgrades beyond this many per second get HTTP 429; 0: no limit.
  uint32_t max_upgrades_per_second = 0;
  /// A recorded tape: when set, one recorded frame per tick (looping)
  /// replaces the generated tape; records are stamped with the send time.
  std::vector<batch> replay;
  /// A fast source: when set, these batches are encoded once per codec and
  /// sent, looping, to every subscribed client as fast as it reads them
  /// (its send queue kept at `full_speed_queue` bytes), whatever it
  /// subscribed to; records keep their recorded stamps. The benchmarks'
  /// source, so the figure measures the reader, not the generator.
  std::vector<batch> full_speed;
  /// The market does not stop when every client is gone: the tape keeps
  /// generating for the symbols last asked for (so an outage misses
  /// records, as it would in the real market, and backfill has work).
  bool keep_interest = false;
  /// Generated trades, quotes and bars kept for the historical REST API,
  /// each (about 30 MB for all three at most; minutes of history at the
  /// default rate). 0: none.
  size_t history_limit = 100'000;
  size_t full_speed_queue = 4u << 20;
};

/// Parses a recording: one server frame in Alpaca's JSON shape per line
/// (empty lines and lines starting with # are skipped). On failure returns
/// nullopt and sets `error` to "line N: ...".
std::optional<std::vector<batch>> parse_recording(const std::string& text,
                                                  std::string& error);

/// The data of a tape's inbound market-data frames (tape/tape.hpp), in
/// order, for `full_speed`. On failure returns nullopt and sets `error`.
std::optional<std::vector<batch>>
batches_of_tape(const std::vector<tape_event>& events, std::string& error);

struct market_stats {
  uint64_t connections_opened = 0;
  uint64_t connections_open = 0;
  uint64_t authenticated = 0;
  uint64_t frames_sent = 0;
  uint64_t records_sent = 0;
  uint64_t errors_sent = 0;
  uint64_t slow_client_drops = 0;
  uint64_t upgrades_refused = 0;
};

class market_hub {
 public:
  market_hub(std::vector<sim_account> accounts, market_options opts);
  ~market_hub();

  /// Starts the tick loop on `srv` (call once, from any thread).
  void start(transport::server& srv);

  /// Decides an upgrade on a market-data path; nullopt if the path is not
  /// one of ours.
  std::optional<transport::upgrade_decision>
  on_upgrade(const transport::http_request& req);

  // -- faults (server thread) ---------------------------------------------
  /// Closes every connection cleanly (close code 1001).
  void close_all();
  /// Drops every connection with a TCP reset.
  void reset_all();
  /// Keeps every connection open but silent: no data, no pongs.
  void stall_all();
  /// Sends every connection a frame that is not valid in its codec.
  void send_malformed();
  /// Answers every authentication with 406 for `duration`.
  void storm_406(std::chrono::nanoseconds duration);
  /// Answers every upgrade (market data and /stream) with HTTP 429 for
  /// `duration`.
  void storm_429(std::chrono::nanoseconds duration);

  /// Whether a 429 storm is on.
  bool storming_429() const;
  /// Holds data back for `duration` (a delay upstream), then resumes.
  void delay(std::chrono::nanoseconds duration);

  market_stats stats() const;

  /// The historical REST API's page for `req` (see protocol/history.hpp)
  /// from what the tape generated: records are kept for the last
  /// `history_limit` of each kind, sorted by symbol then time, paged by a
  /// token naming where the page stopped.
  std::string history(const history_request& req) const;

  /// The tape's current price of `symbol` (what market orders fill at).
  double price_of(const std::string& symbol);

  /// Opaque; public so the connection type in market_hub.cpp can use it.
  struct state;

 private:
  std::shared_ptr<state> state_;
};

} // namespace athanor::sim

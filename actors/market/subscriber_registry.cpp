#include "actors/market/subscriber_registry.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <unordered_map>
#include <variant>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/market/backfill_book.hpp"
#include "actors/market/backfill_fetch.hpp"
#include "actors/market/lag_meter.hpp"
#include "observability/latency_histogram.hpp"
#include "actors/market/rate_meter.hpp"
#include "actors/market/topic_table.hpp"
#include "messages/error.hpp"
#include "messages/record_kinds.hpp"
#include "observability/log.hpp"

namespace athanor {

namespace {

using slot = topic_table::slot;

// Symbols per history request of a repair (Alpaca takes comma lists; a
// URL of thousands of tickers is refused by proxies long before).
constexpr size_t symbols_per_request = 200;

// Records a subscriber waits for, queued while it has too many batches
// unanswered. Gaps keep their place between batches.
using queued_item = std::variant<batch, gap>;

struct subscriber_entry {
  /// Its slot in the topic table (which holds its topics).
  slot at = 0;
  subscriber_actor handle;
  caf::actor untyped;
  std::string name;
  uint32_t in_flight = 0;
  std::deque<queued_item> queue;
  /// symbol -> index into the quotes of the queue's last batch.
  std::unordered_map<std::string, size_t> conflation;
  /// Records other than quotes in the queue.
  uint64_t queued_records = 0;
  /// The queue's footprint (see footprint()).
  uint64_t queued_bytes = 0;
  /// When each queue item was queued (actor clock), front first.
  std::deque<caf::actor_clock::time_point> queued_at;
  std::shared_ptr<lag_meter> lag;
  rate_meter delivered_rate;
  subscriber_stats stats;
};

// A subscription change too big for one turn (a gateway client with a
// whole-market universe, or its drop when it leaves), applied a slice per
// turn: between slices the mailbox delivers everyone else's data.
struct pending_change {
  enum class kind { add, remove, drop };
  kind what = kind::add;
  /// The subscriber (add, remove), or the dead one (drop).
  caf::actor_addr who;
  /// A drop's slot (the subscriber's entry is gone).
  slot dropped = 0;
  std::vector<topic> topics;
  size_t done = 0;
  size_t slice = 0;
  bool changed = false;
  caf::typed_response_promise<std::vector<topic>> promise;
  trace cause;
};

struct registry_state {
  registry_config cfg;
  topic_table table;
  topic_table::routing routing;
  desire_sink_actor session;
  std::unordered_map<slot, subscriber_entry> subscribers;
  /// Actor id -> slot.
  /// By address, not actor id: remote subscribers' ids repeat across
  /// nodes.
  std::unordered_map<caf::actor_addr, slot> slots;
  slot next_slot = 0;
  /// Subscriber names in use, and the next suffix to try for a name given
  /// twice (so a popular name costs one lookup, not a scan).
  std::unordered_map<std::string, slot> names;
  std::unordered_map<std::string, uint64_t> next_suffix;
  registry_stats totals;
  /// What every subscriber's queue holds, against cfg.max_queued_bytes.
  uint64_t queued_bytes = 0;
  /// Records dropped because that budget was spent.
  uint64_t budget_drops = 0;
  /// Every delivery's lag, over all subscribers: one histogram per registry
  /// (one per subscriber would be 17 series each, 17 k with 1,000
  /// gateway clients, copied at every scrape by this shared actor).
  latency_histogram delivery_lag;
  /// Receive time of the newest batch: what a gap's `since` is when its
  /// sender cannot know (a restarted session starts with nothing).
  timestamp_ns last_received_at = 0;
  /// Changes applied a slice per turn, in arrival order; a subscriber's
  /// later changes wait behind its earlier ones.
  std::deque<pending_change> pending;
  std::unordered_map<caf::actor_addr, uint32_t> pending_of;
  bool slice_scheduled = false;
  /// Subscribers whose gaps are repaired, and on which channels.
  std::unordered_map<slot, std::vector<channel>> backfill_of;
  std::unique_ptr<backfill_book> book;
  uint64_t backfill_job = 0;
  /// Where the current repair's range starts (its markers' `since`).
  timestamp_ns backfill_from = 0;
  uint64_t backfills = 0;
  uint64_t backfill_failures = 0;
  uint64_t backfilled_records = 0;
  static inline const char* name = "athanor.subscriber_registry";
};

using registry_pointer = registry_actor::stateful_pointer<registry_state>;

// What a queued batch costs in memory, estimated: each record's own size
// (strings within their small-string buffer, as tickers are) and each
// order book level. Sums over records, so a queue's footprint is the sum
// of what was appended to it.
uint64_t footprint(const batch& x) {
  uint64_t bytes = 0;
  for_each_kind(x, x, [&](auto& records, auto&) {
    bytes += records.size() * sizeof(records.front());
  });
  for (auto& book : x.orderbooks)
    bytes += (book.bids.size() + book.asks.size()) * sizeof(price_level);
  return bytes;
}

bool subscribable(channel x) {
  return x != channel::corrections && x != channel::cancel_errors;
}

// Returns the problem with a topic list, naming the entry; empty if fine.
std::string check_topics(const std::vector<topic>& topics,
                         protocol::feed_family family) {
  for (size_t i = 0; i < topics.size(); ++i) {
    auto& x = topics[i];
    if (subscribable(x.kind) && protocol::offers(family, x.kind)
        && !x.symbol.empty() && x.symbol.size() <= 32)
      continue; // the common case builds no message
    auto where = "topics[" + std::to_string(i) + "]";
    if (!subscribable(x.kind))
      return where + ".channel: " + to_string(x.kind)
             + " come with trades; subscribe to trades";
    if (!protocol::offers(family, x.kind))
      return where + ".channel: " + to_string(x.kind) + " (" + to_string(x)
             + ") is not offered by a " + to_string(family) + " feed";
    if (x.symbol.empty())
      return where + ".symbol: must not be empty";
    if (x.symbol.size() > 32)
      return where + ".symbol: longer than 32 characters";
  }
  return {};
}

// A subscriber's label as logs and metrics may carry it: at most 64 of
// [A-Za-z0-9._:/-] (anything else becomes '_'); empty if nothing is left.
std::string label_of(const std::string& given) {
  std::string result;
  for (auto c : given.substr(0, 64)) {
    auto fine = std::isalnum(static_cast<unsigned char>(c)) || c == '.'
                || c == '_' || c == ':' || c == '/' || c == '-';
    result += fine ? c : '_';
  }
  if (std::all_of(result.begin(), result.end(), [](char c) { return c == '_'; }))
    return {};
  return result;
}

class registry_logic : public std::enable_shared_from_this<registry_logic> {
 public:
  explicit registry_logic(registry_pointer self) : self_(self) {}

  registry_state& st() {
    return self_->state;
  }

  // -- subscriptions ----------------------------------------------------------

  caf::result<std::vector<topic>> subscribe(subscriber_actor& sub,
                                            const std::vector<topic>& topics,
                                            const trace& cause) {
    if (!sub)
      return make_error(engine_errc::invalid_subscription,
                        "subscriber: invalid handle");
    if (auto problem = check_topics(topics, st().cfg.family);
        !problem.empty())
      return make_error(engine_errc::invalid_subscription, problem);
    auto s = slot_of(sub);
    if (sliced(sub.address(), topics.size()))
      return queue(pending_change::kind::add, sub.address(), topics, cause);
    auto changed = st().table.add(s, topics);
    auto result = st().table.topics_of(s);
    auto& entry = st().subscribers.at(s);
    log::info("registry", "subscribe", cause,
              {{"registry", st().cfg.name},
               {"subscriber", entry.name},
               {"topics", topics.size()},
               {"total", result.size()}});
    if (changed)
      publish_desired(cause);
    return result;
  }

  caf::result<std::vector<topic>> unsubscribe(subscriber_actor& sub,
                                              const std::vector<topic>& topics,
                                              const trace& cause) {
    if (sliced(sub.address(), topics.size()))
      return queue(pending_change::kind::remove, sub.address(), topics, cause);
    auto i = st().slots.find(sub.address());
    if (i == st().slots.end())
      return std::vector<topic>{};
    auto s = i->second;
    auto changed = st().table.remove(s, topics);
    auto result = st().table.topics_of(s);
    auto& entry = st().subscribers.at(s);
    log::info("registry", "unsubscribe", cause,
              {{"registry", st().cfg.name},
               {"subscriber", entry.name},
               {"topics", topics.size()},
               {"total", result.size()}});
    if (result.empty())
      forget(s);
    if (changed)
      publish_desired(cause);
    return result;
  }

  // -- changes in slices -----------------------------------------------------

  /// Whether a change of `count` topics by `who` goes a slice per turn: a
  /// big one, or any while `who` has one pending (its order is kept).
  bool sliced(const caf::actor_addr& who, size_t count) {
    return count > st().cfg.change_slice || st().pending_of.count(who) > 0;
  }

  caf::typed_response_promise<std::vector<topic>>
  queue(pending_change::kind what, const caf::actor_addr& who,
        const std::vector<topic>& topics, const trace& cause) {
    pending_change job;
    job.what = what;
    job.who = who;
    // Sorted once: then each slice touches only its own range of the sorted
    // sets (adds go up from the front, removals down from the back).
    job.topics = topic_table::normalized(topics);
    // At most 16 slices: each slice merges into the sorted sets once, so
    // more slices would cost more than the change itself.
    job.slice = std::max(st().cfg.change_slice, (topics.size() + 15) / 16);
    job.promise = self_->make_response_promise<std::vector<topic>>();
    job.cause = cause;
    auto promise = job.promise;
    ++st().pending_of[who];
    st().pending.push_back(std::move(job));
    schedule_slice();
    return promise;
  }

  void schedule_slice() {
    if (st().slice_scheduled || st().pending.empty())
      return;
    st().slice_scheduled = true;
    self_->send(self_, slice_atom::value);
  }

  void on_slice() {
    st().slice_scheduled = false;
    if (st().pending.empty())
      return;
    auto& job = st().pending.front();
    using kind = pending_change::kind;
    if (job.what == kind::drop) {
      job.changed |= st().table.remove_last(job.dropped, job.slice);
      if (st().table.topics_held(job.dropped).empty())
        finish_front();
      schedule_slice();
      return;
    }
    auto n = std::min(job.slice, job.topics.size() - job.done);
    auto first = job.what == kind::add ? job.done
                                       : job.topics.size() - job.done - n;
    std::vector<topic> part(job.topics.begin() + first,
                            job.topics.begin() + first + n);
    job.done += n;
    auto i = st().slots.find(job.who);
    if (i != st().slots.end())
      job.changed |= job.what == kind::add ? st().table.add(i->second, part)
                                           : st().table.remove(i->second, part);
    if (job.done == job.topics.size())
      finish_front();
    schedule_slice();
  }

  // Answers the front change, as the same change in one turn would have.
  void finish_front() {
    auto job = std::move(st().pending.front());
    st().pending.pop_front();
    using kind = pending_change::kind;
    if (job.what != kind::drop) {
      auto left = --st().pending_of[job.who];
      if (left == 0)
        st().pending_of.erase(job.who);
      std::vector<topic> result;
      auto i = st().slots.find(job.who);
      if (i != st().slots.end()) {
        auto s = i->second;
        result = st().table.topics_of(s);
        auto& entry = st().subscribers.at(s);
        log::info("registry", job.what == kind::add ? "subscribe"
                                                    : "unsubscribe",
                  job.cause,
                  {{"registry", st().cfg.name},
                   {"subscriber", entry.name},
                   {"topics", job.topics.size()},
                   {"total", result.size()},
                   {"slices", (job.topics.size() + job.slice - 1) / job.slice}});
        if (result.empty() && left == 0)
          forget(s);
      }
      job.promise.deliver(std::move(result));
    }
    if (job.changed)
      publish_desired(job.cause);
  }

  /// A dead subscriber's changes are void; its topics go in slices if many.
  void cancel_pending(const caf::actor_addr& who) {
    if (st().pending_of.erase(who) == 0)
      return;
    auto& xs = st().pending;
    for (auto& job : xs)
      if (job.what != pending_change::kind::drop && job.who == who)
        job.promise.deliver(make_error(engine_errc::not_found,
                                       "subscriber: gone"));
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](const pending_change& job) {
                              return job.what != pending_change::kind::drop
                                     && job.who == who;
                            }),
             xs.end());
  }

  /// The subscriber's slot, made on first sight.
  slot slot_of(subscriber_actor& sub) {
    auto i = st().slots.find(sub.address());
    if (i != st().slots.end())
      return i->second;
    auto s = st().next_slot++;
    st().slots.emplace(sub.address(), s);
    auto& entry = st().subscribers[s];
    entry.at = s;
    entry.handle = sub;
    entry.untyped = caf::actor_cast<caf::actor>(sub);
    entry.stats.id = sub.id();
    name(s, sub.node() == self_->node() ? "subscriber" : "remote");
    entry.lag = std::make_shared<lag_meter>(st().cfg.lag_threshold);
    self_->monitor(sub);
    return s;
  }

  /// Names slot `s` `base` (a label or its kind), unique among the names
  /// in use; a subscriber of another node carries its process ("@PID").
  void name(slot s, const std::string& base) {
    auto& entry = st().subscribers.at(s);
    auto wanted = base;
    if (base == "subscriber" || base == "remote")
      wanted += "-" + std::to_string(s + 1);
    if (entry.handle.node() != self_->node()) {
      auto node = to_string(entry.handle.node());
      wanted += "@" + node.substr(node.find('#') + 1);
    }
    if (entry.name == wanted || entry.name.rfind(wanted + "#", 0) == 0)
      return;
    auto unique = wanted;
    while (st().names.count(unique) != 0) {
      auto& n = st().next_suffix[wanted];
      n = std::max<uint64_t>(n, 2);
      unique = wanted + "#" + std::to_string(n++);
    }
    release_name(entry);
    st().names.emplace(unique, s);
    entry.name = unique;
    entry.stats.name = unique;
  }

  void release_name(const subscriber_entry& entry) {
    if (entry.name.empty())
      return;
    st().names.erase(entry.name);
    if (st().names.count(entry.name) == 0)
      st().next_suffix.erase(entry.name);
  }

  void label(subscriber_actor& sub, const std::string& given) {
    if (!sub)
      return;
    auto clean = label_of(given);
    if (clean.empty())
      return;
    auto s = slot_of(sub);
    auto before = st().subscribers.at(s).name;
    name(s, clean);
    auto& entry = st().subscribers.at(s);
    if (entry.name != before)
      log::write(log::level::debug, "registry", "subscriber_named", nullptr,
                 {{"registry", st().cfg.name},
                  {"subscriber", entry.name},
                  {"was", before}});
  }

  void forget(slot s) {
    auto i = st().subscribers.find(s);
    if (i == st().subscribers.end())
      return;
    release_name(i->second);
    st().queued_bytes -= i->second.queued_bytes;
    self_->demonitor(i->second.handle.address());
    st().slots.erase(i->second.handle.address());
    st().backfill_of.erase(s);
    st().subscribers.erase(i);
  }

  void on_down(const caf::down_msg& msg) {
    auto i = st().slots.find(msg.source);
    if (i == st().slots.end())
      return;
    auto s = i->second;
    auto& entry = st().subscribers.at(s);
    ++st().totals.subscribers_lost;
    auto cause = trace::root();
    log::warn("registry", "subscriber_down", cause,
              {{"registry", st().cfg.name},
               {"subscriber", entry.name},
               {"reason", render(msg.reason)},
               {"queued_records", entry.queued_records}});
    release_name(entry);
    st().queued_bytes -= entry.queued_bytes;
    st().slots.erase(i);
    st().subscribers.erase(s);
    cancel_pending(msg.source);
    if (st().table.topics_held(s).size() <= st().cfg.change_slice) {
      if (st().table.remove_all(s))
        publish_desired(cause);
      return;
    }
    // Its routing stops now (no entry); its topics leave a slice per turn.
    pending_change job;
    job.what = pending_change::kind::drop;
    job.who = msg.source;
    job.dropped = s;
    job.slice = std::max(st().cfg.change_slice,
                         (st().table.topics_held(s).size() + 15) / 16);
    job.cause = cause;
    st().pending.push_back(std::move(job));
    schedule_slice();
  }

  void publish_desired(const trace& cause) {
    if (st().session)
      self_->send(st().session, desire_atom::value, st().table.desired(),
                  cause.caused());
  }

  void attach(desire_sink_actor& session) {
    st().session = std::move(session);
    log::info("registry", "session_attached",
              {{"registry", st().cfg.name}});
    self_->send(st().session, desire_atom::value, st().table.desired(),
                trace::root());
  }

  // -- data -------------------------------------------------------------------

  void on_batch(const batch& data) {
    if (st().book)
      if (auto range = st().book->on_live(data))
        start_backfill(*range);
    st().last_received_at = std::max(st().last_received_at, data.received_at);
    ++st().totals.batches_in;
    st().totals.records_in += data.size();
    auto& routing = st().routing;
    st().table.route(data, routing);
    if (!routing.whole.empty()) {
      // Subscribers that want all of it share the incoming message itself:
      // moving it out of the mailbox element copies no record. `data` is
      // moved-from afterwards; only `whole` refers to the batch.
      auto shared = self_->current_mailbox_element()->move_content_to_message();
      auto& whole = shared.get_as<batch>(0);
      auto lag = feed_lag_ns(whole);
      for (auto s : routing.whole) {
        auto found = st().subscribers.find(s);
        if (found == st().subscribers.end())
          continue; // gone; its topics are leaving in slices
        auto& entry = found->second;
        if (ready(entry))
          send_batch(s, entry, shared, whole.size(), lag);
        else
          enqueue(entry, whole);
      }
    }
    for (auto& [s, part] : routing.parts) {
      auto found = st().subscribers.find(s);
      if (found == st().subscribers.end())
        continue;
      auto& entry = found->second;
      if (ready(entry)) {
        auto records = part.size();
        auto lag = feed_lag_ns(part);
        send_batch(s, entry, caf::make_message(std::move(part)), records,
                   lag);
      } else {
        enqueue(entry, part);
      }
    }
    routing.clear();
  }

  bool ready(const subscriber_entry& entry) const {
    return entry.queue.empty()
           && entry.in_flight < self_->state.cfg.max_in_flight;
  }

  void send_batch(slot s, subscriber_entry& entry, const caf::message& msg,
                  size_t records, int64_t feed_lag,
                  caf::timespan waited = caf::timespan{0}) {
    if (feed_lag > 0)
      note_lag(entry, caf::timespan{feed_lag} + waited);
    ++entry.in_flight;
    ++entry.stats.delivered_batches;
    entry.stats.delivered_records += records;
    entry.delivered_rate.record(self_->clock().now(), records);
    auto keep = shared_from_this();
    self_->request(entry.untyped, caf::infinite, msg)
      .then([this, keep, s]() { on_handled(s); },
            [this, keep, s](caf::error&) { on_handled(s); });
  }

  void note_lag(subscriber_entry& entry, caf::timespan lag) {
    st().delivery_lag.observe(lag);
    auto ms = static_cast<double>(lag.count()) / 1e6;
    switch (entry.lag->record(self_->clock().now(), lag)) {
      case lag_meter::change::above:
        log::warn("registry", "subscriber_lag_high",
                  {{"registry", st().cfg.name},
                   {"subscriber", entry.name},
                   {"lag_ms", ms}});
        break;
      case lag_meter::change::below:
        log::info("registry", "subscriber_lag_normal",
                  {{"registry", st().cfg.name},
                   {"subscriber", entry.name},
                   {"lag_ms", ms}});
        break;
      case lag_meter::change::none:
        break;
    }
  }

  void on_handled(slot s) {
    auto i = st().subscribers.find(s);
    if (i == st().subscribers.end())
      return;
    auto& entry = i->second;
    if (entry.in_flight > 0)
      --entry.in_flight;
    flush(s, entry);
  }

  // Sends what the queue holds, as far as the in-flight bound allows. A gap
  // at the front goes at once: it is small and must precede newer data.
  void flush(slot s, subscriber_entry& entry) {
    while (!entry.queue.empty()) {
      auto& front = entry.queue.front();
      if (auto* g = std::get_if<gap>(&front)) {
        self_->send(entry.handle, std::move(*g));
      } else if (entry.in_flight < st().cfg.max_in_flight) {
        auto data = std::move(std::get<batch>(front));
        entry.queued_records -= data.size() - data.quotes.size();
        auto bytes = std::min(footprint(data), entry.queued_bytes);
        entry.queued_bytes -= bytes;
        st().queued_bytes -= bytes;
        auto records = data.size();
        auto lag = feed_lag_ns(data);
        auto waited = self_->clock().now() - entry.queued_at.front();
        send_batch(s, entry, caf::make_message(std::move(data)), records, lag,
                   waited);
      } else {
        return;
      }
      entry.queue.pop_front();
      entry.queued_at.pop_front();
      if (entry.queue.empty())
        entry.conflation.clear();
    }
  }

  void enqueue(subscriber_entry& entry, const batch& data) {
    auto others = data.size() - data.quotes.size();
    // Once a gap is queued, everything is dropped until the subscriber has
    // caught up to it: otherwise small batches between ever more gaps would
    // let memory grow after all.
    bool behind_gap = !entry.queue.empty()
                      && std::holds_alternative<gap>(entry.queue.back());
    // Every subscriber's queue shares one budget in bytes: however many
    // are slow, queued data stays bounded, and the slow ones (only they
    // queue) get the gaps.
    auto bytes = footprint(data);
    bool over_budget = st().queued_bytes + bytes > st().cfg.max_queued_bytes;
    if (behind_gap || over_budget
        || entry.queued_records + others > st().cfg.max_queued_records) {
      if (over_budget && !behind_gap)
        st().budget_drops += data.size();
      drop(entry, data);
      return;
    }
    auto& tail = open_tail(entry, data);
    auto added = bytes - data.quotes.size() * sizeof(quote);
    for (auto& q : data.quotes) {
      auto [pos, fresh] = entry.conflation.emplace(q.symbol, tail.quotes.size());
      if (fresh) {
        tail.quotes.push_back(q);
        added += sizeof(quote);
      } else {
        tail.quotes[pos->second] = q;
        ++entry.stats.conflated_quotes;
      }
    }
    for_each_kind(tail, data, [](auto& to, auto& from) {
      // Quotes were conflated above.
      if constexpr (!std::is_same_v<std::decay_t<decltype(to)>,
                                    std::vector<quote>>)
        to.insert(to.end(), from.begin(), from.end());
    });
    tail.received_at = data.received_at;
    tail.epoch = data.epoch;
    entry.queued_records += others;
    entry.queued_bytes += added;
    st().queued_bytes += added;
  }

  batch& open_tail(subscriber_entry& entry, const batch& data) {
    if (entry.queue.empty()
        || !std::holds_alternative<batch>(entry.queue.back())
        || std::get<batch>(entry.queue.back()).backfill != data.backfill) {
      entry.conflation.clear();
      batch fresh;
      fresh.received_at = data.received_at;
      fresh.epoch = data.epoch;
      fresh.backfill = data.backfill;
      entry.queue.emplace_back(std::move(fresh));
      entry.queued_at.push_back(self_->clock().now());
    }
    return std::get<batch>(entry.queue.back());
  }

  // Trades and other records are never dropped silently: the subscriber
  // gets a gap, after what it already has queued, saying how many.
  void drop(subscriber_entry& entry, const batch& data) {
    auto lost = data.size();
    entry.stats.dropped_records += lost;
    if (!entry.queue.empty()) {
      if (auto* g = std::get_if<gap>(&entry.queue.back())) {
        g->dropped += lost;
        return;
      }
    }
    gap marker;
    marker.reason = gap_reason::slow_subscriber;
    marker.topics = st().table.topics_held(entry.at);
    marker.since = data.received_at;
    marker.epoch = data.epoch;
    marker.dropped = lost;
    ++entry.stats.gaps;
    entry.conflation.clear();
    log::warn("registry", "subscriber_overflow",
              {{"registry", st().cfg.name},
               {"subscriber", entry.name},
               {"queued_records", entry.queued_records}});
    entry.queue.emplace_back(std::move(marker));
    entry.queued_at.push_back(self_->clock().now());
  }

  void on_gap(const gap& upstream) {
    if (upstream.reason == gap_reason::refused) {
      on_refused(upstream);
      return;
    }
    if (st().book
        && (upstream.reason == gap_reason::reconnect
            || upstream.reason == gap_reason::restart
            || upstream.reason == gap_reason::silent_stream))
      st().book->on_gap(upstream.since ? upstream.since
                                       : st().last_received_at,
                        upstream.epoch);
    for (auto& [s, entry] : st().subscribers) {
      gap marker = upstream;
      if (marker.since == 0)
        marker.since = st().last_received_at;
      marker.topics = st().table.topics_held(s);
      ++entry.stats.gaps;
      if (entry.queue.empty())
        self_->send(entry.handle, std::move(marker));
      else {
        entry.queue.emplace_back(std::move(marker));
        entry.queued_at.push_back(self_->clock().now());
      }
    }
  }

  // -- backfill ---------------------------------------------------------------

  void opt_in(subscriber_actor& sub, std::vector<channel>& channels) {
    if (!sub)
      return;
    auto s = slot_of(sub);
    channels.erase(std::remove_if(channels.begin(), channels.end(),
                                  [](channel x) {
                                    return x != channel::trades
                                           && x != channel::bars;
                                  }),
                   channels.end());
    if (channels.empty())
      st().backfill_of.erase(s);
    else
      st().backfill_of[s] = std::move(channels);
    if (!st().backfill_of.empty() && !st().book)
      st().book = std::make_unique<backfill_book>(
        st().cfg.backfill_overlap.count());
  }

  // The explicit symbols (a "*" cannot be fetched) each opted-in subscriber
  // holds on its backfill channels, per channel, a bounded number per
  // request: a whole-market universe must not become one huge URL.
  std::vector<history_request> requests_of(const backfill_book::range& r) {
    std::map<channel, std::set<std::string>> wanted;
    for (auto& [s, channels] : st().backfill_of)
      for (auto& x : st().table.topics_held(s))
        if (x.symbol != "*"
            && std::find(channels.begin(), channels.end(), x.kind)
                 != channels.end())
          wanted[x.kind].insert(x.symbol);
    std::vector<history_request> result;
    for (auto& [kind, symbols] : wanted) {
      for (auto i = symbols.begin(); i != symbols.end();) {
        history_request req;
        req.kind = kind;
        for (; i != symbols.end() && req.symbols.size() < symbols_per_request;
             ++i)
          req.symbols.push_back(*i);
        req.start = r.from;
        req.end = r.to;
        req.feed = st().cfg.feed;
        result.push_back(std::move(req));
      }
    }
    return result;
  }

  void start_backfill(const backfill_book::range& r) {
    auto job = ++st().backfill_job;
    st().backfill_from = r.from;
    log::info("registry", "backfill_started",
              {{"registry", st().cfg.name},
               {"job", job},
               {"from", r.from},
               {"to", r.to}});
    if (!st().cfg.history) {
      backfill_result failed;
      failed.job = job;
      failed.error = "no market-data REST API to fetch history from";
      self_->send(self_, std::move(failed));
      return;
    }
    backfill_fetch_config cfg;
    cfg.history = st().cfg.history;
    cfg.breaker = st().cfg.history_breaker;
    cfg.requests = requests_of(r);
    cfg.job = job;
    cfg.max_records = st().cfg.backfill_max_records;
    cfg.timeout = st().cfg.backfill_timeout;
    cfg.reply_to = caf::actor_cast<caf::actor>(self_);
    spawn_backfill_fetch(self_->system(), std::move(cfg));
  }

  // Each opted-in subscriber gets the fetched records of its topics (those
  // the live stream did not deliver), then the marker.
  void on_backfill(backfill_result& result) {
    if (!st().book || result.job != st().backfill_job)
      return;
    auto fresh = result.error.empty() ? st().book->fresh(std::move(result.data))
                                      : batch{};
    if (result.error.empty())
      ++st().backfills;
    else
      ++st().backfill_failures;
    log::write(result.error.empty() ? log::level::info : log::level::warn,
               "registry",
               result.error.empty() ? "backfilled" : "backfill_failed",
               nullptr,
               {{"registry", st().cfg.name},
                {"job", result.job},
                {"records", fresh.size()},
                {"error", result.error}});
    for (auto& [s, channels] : st().backfill_of) {
      auto found = st().subscribers.find(s);
      if (found == st().subscribers.end())
        continue;
      auto& entry = found->second;
      auto& held = st().table.topics_held(s);
      auto wants = [&](channel kind, const std::string& symbol) {
        return std::find(channels.begin(), channels.end(), kind)
                 != channels.end()
               && std::binary_search(held.begin(), held.end(),
                                     topic{kind, symbol});
      };
      batch mine;
      mine.backfill = true;
      mine.received_at = st().last_received_at;
      for (auto& x : fresh.trades)
        if (wants(channel::trades, x.symbol))
          mine.trades.push_back(x);
      for (auto& x : fresh.bars)
        if (wants(channel::bars, x.symbol))
          mine.bars.push_back(x);
      gap marker;
      marker.reason = result.error.empty() ? gap_reason::backfilled
                                           : gap_reason::backfill_failed;
      marker.since = st().backfill_from;
      marker.dropped = mine.size();
      marker.detail = result.error;
      for (auto& x : held)
        if (x.symbol != "*" && wants(x.kind, x.symbol))
          marker.topics.push_back(x);
      st().backfilled_records += mine.size();
      if (!mine.empty()) {
        if (ready(entry)) {
          auto records = mine.size();
          send_batch(s, entry, caf::make_message(std::move(mine)), records, 0);
        } else {
          enqueue(entry, mine);
        }
      }
      if (entry.queue.empty())
        self_->send(entry.handle, std::move(marker));
      else {
        entry.queue.emplace_back(std::move(marker));
        entry.queued_at.push_back(self_->clock().now());
      }
    }
    if (auto next = st().book->done())
      start_backfill(*next);
  }

  // The server refused some topics: each subscriber holding one is told,
  // and loses it, so the desired set stops asking for it (asked for again,
  // it is tried again). Nobody else hears anything.
  void on_refused(const gap& upstream) {
    auto refused = upstream.topics;
    std::sort(refused.begin(), refused.end());
    bool changed = false;
    for (auto& [s, entry] : st().subscribers) {
      std::vector<topic> lost;
      auto& held = st().table.topics_held(s);
      std::set_intersection(held.begin(), held.end(), refused.begin(),
                            refused.end(), std::back_inserter(lost));
      if (lost.empty())
        continue;
      changed |= st().table.remove(s, lost);
      gap marker = upstream;
      marker.topics = std::move(lost);
      ++entry.stats.gaps;
      log::warn("registry", "topics_refused",
                {{"registry", st().cfg.name},
                 {"subscriber", entry.name},
                 {"topics", marker.topics.size()},
                 {"first", to_string(marker.topics.front())}});
      if (entry.queue.empty())
        self_->send(entry.handle, std::move(marker));
      else {
        entry.queue.emplace_back(std::move(marker));
        entry.queued_at.push_back(self_->clock().now());
      }
    }
    if (changed)
      publish_desired(trace::root());
  }

  // -- queries ----------------------------------------------------------------

  /// The figures; with `topics` also every subscriber's topics and the
  /// desired set (a copy of the whole universe, so not for metrics).
  registry_stats stats(bool topics = true) {
    auto result = st().totals;
    if (topics)
      result.desired = st().table.desired();
    for (auto& [s, entry] : st().subscribers) {
      auto x = entry.stats;
      if (topics)
        x.topics = st().table.topics_of(s);
      x.in_flight = entry.in_flight;
      x.queued_records = entry.queued_records;
      for (auto& item : entry.queue)
        if (auto* b = std::get_if<batch>(&item))
          x.queued_records += b->quotes.size();
      result.subscribers.push_back(std::move(x));
    }
    std::sort(result.subscribers.begin(), result.subscribers.end(),
              [](auto& x, auto& y) { return x.id < y.id; });
    return result;
  }

  metric_samples metrics() {
    metric_samples result;
    std::map<std::string, std::string> labels{{"registry", st().cfg.name}};
    auto snap = stats(false);
    result.push_back({"athanor_registry_batches_total", metric_kind::counter,
                      labels, static_cast<double>(snap.batches_in)});
    result.push_back({"athanor_registry_records_total", metric_kind::counter,
                      labels, static_cast<double>(snap.records_in)});
    result.push_back({"athanor_registry_subscribers_lost_total",
                      metric_kind::counter, labels,
                      static_cast<double>(snap.subscribers_lost)});
    result.push_back({"athanor_registry_subscribers", metric_kind::gauge,
                      labels,
                      static_cast<double>(snap.subscribers.size())});
    result.push_back({"athanor_registry_queued_bytes", metric_kind::gauge,
                      labels, static_cast<double>(st().queued_bytes)});
    result.push_back({"athanor_registry_budget_dropped_records_total",
                      metric_kind::counter, labels,
                      static_cast<double>(st().budget_drops)});
    result.push_back({"athanor_registry_backfills_total", metric_kind::counter,
                      labels, static_cast<double>(st().backfills)});
    result.push_back({"athanor_registry_backfill_failures_total",
                      metric_kind::counter, labels,
                      static_cast<double>(st().backfill_failures)});
    result.push_back({"athanor_registry_backfilled_records_total",
                      metric_kind::counter, labels,
                      static_cast<double>(st().backfilled_records)});
    st().delivery_lag.append_to(result, "athanor_subscriber_lag_seconds",
                                labels);
    for (auto& x : snap.subscribers) {
      auto with = labels;
      with["subscriber"] = x.name;
      auto add = [&](const char* name, metric_kind kind, double value) {
        result.push_back({name, kind, with, value});
      };
      add("athanor_subscriber_in_flight", metric_kind::gauge, x.in_flight);
      add("athanor_subscriber_queued_records", metric_kind::gauge,
          static_cast<double>(x.queued_records));
      add("athanor_subscriber_delivered_records_total", metric_kind::counter,
          static_cast<double>(x.delivered_records));
      add("athanor_subscriber_conflated_quotes_total", metric_kind::counter,
          static_cast<double>(x.conflated_quotes));
      add("athanor_subscriber_dropped_records_total", metric_kind::counter,
          static_cast<double>(x.dropped_records));
      add("athanor_subscriber_gaps_total", metric_kind::counter,
          static_cast<double>(x.gaps));
    }
    for (auto& [s, entry] : st().subscribers) {
      auto with = labels;
      with["subscriber"] = entry.name;
      result.push_back({"athanor_subscriber_lag_last_seconds",
                        metric_kind::gauge, with, entry.lag->last_seconds()});
      result.push_back({"athanor_subscriber_lag_max_seconds",
                        metric_kind::gauge, with, entry.lag->max_seconds()});
      result.push_back({"athanor_subscriber_records_per_second",
                        metric_kind::gauge, with,
                        entry.delivered_rate.per_second(self_->clock().now())});
      result.push_back({"athanor_subscriber_late_batches_total",
                        metric_kind::counter, with,
                        static_cast<double>(entry.lag->late())});
    }
    return result;
  }

 private:
  registry_pointer self_;
};

registry_actor::behavior_type registry_impl(registry_pointer self,
                                            registry_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.cfg = std::move(cfg);
  auto logic = std::make_shared<registry_logic>(self);
  self->set_down_handler([logic](caf::down_msg& msg) { logic->on_down(msg); });
  return {
    [logic](subscribe_atom, subscriber_actor& sub, std::vector<topic>& topics,
            trace& cause) { return logic->subscribe(sub, topics, cause); },
    [logic](label_atom, subscriber_actor& sub, std::string& given) {
      logic->label(sub, given);
    },
    [logic](unsubscribe_atom, subscriber_actor& sub,
            std::vector<topic>& topics,
            trace& cause) { return logic->unsubscribe(sub, topics, cause); },
    [logic](const batch& data) { logic->on_batch(data); },
    [logic](const gap& marker) { logic->on_gap(marker); },
    [logic](backfill_atom, subscriber_actor& sub,
            std::vector<channel>& channels) { logic->opt_in(sub, channels); },
    [logic](backfill_result& result) { logic->on_backfill(result); },
    [logic](attach_atom, desire_sink_actor& session) {
      logic->attach(session);
    },
    [logic](slice_atom) { logic->on_slice(); },
    [logic](caf::get_atom) { return logic->stats(); },
    [logic](metrics_atom) { return logic->metrics(); },
  };
}

} // namespace

std::vector<config_problem> validate(const registry_config& cfg,
                                     const std::string& prefix) {
  std::vector<config_problem> problems;
  if (cfg.max_in_flight == 0)
    problems.push_back({prefix + "max-in-flight", "must be at least 1"});
  if (cfg.max_queued_records == 0)
    problems.push_back({prefix + "max-queued-records", "must be at least 1"});
  if (cfg.max_queued_bytes == 0)
    problems.push_back({prefix + "max-queued-bytes", "must be at least 1"});
  return problems;
}

caf::expected<registry_actor> spawn_subscriber_registry(caf::actor_system& sys,
                                                        registry_config cfg) {
  if (auto problems = validate(cfg); !problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  return sys.spawn(registry_impl, std::move(cfg));
}

} // namespace athanor

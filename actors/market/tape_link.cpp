#include "actors/market/tape_link.hpp"

#include <algorithm>
#include <atomic>
#include <map>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "actors/common/exception_handler.hpp"
#include "messages/atoms.hpp"
#include "observability/log.hpp"

namespace athanor {

// -- the tape's connections ---------------------------------------------------

std::vector<tape_connection>
connections_of(const std::vector<tape_event>& events) {
  std::vector<tape_connection> result;
  // Recorded epochs may repeat across runs appended to one another; the
  // latest connect of an epoch owns its later events.
  std::map<uint64_t, size_t> open;
  for (auto& x : events) {
    if (x.kind == tape_kind::connect) {
      if (x.trading) {
        open.erase(x.epoch);
        continue;
      }
      open[x.epoch] = result.size();
      result.emplace_back();
      result.back().events.push_back(x);
      continue;
    }
    auto i = open.find(x.epoch);
    if (i == open.end())
      continue;
    result[i->second].events.push_back(x);
    if (x.kind == tape_kind::closed)
      open.erase(i);
  }
  return result;
}

// -- the core -----------------------------------------------------------------

tape_playback::tape_playback(tape_connection connection, bool last,
                             size_t max_in_flight)
  : events_(std::move(connection.events)),
    last_(last),
    max_in_flight_(std::max<size_t>(max_in_flight, 1)) {}

bool tape_playback::only_closed_follows() const {
  return std::all_of(events_.begin() + static_cast<ptrdiff_t>(pos_) + 1,
                     events_.end(), [](const tape_event& x) {
                       return x.kind == tape_kind::closed;
                     });
}

void tape_playback::skip() {
  while (pos_ < events_.size()) {
    auto& x = events_[pos_];
    switch (x.kind) {
      case tape_kind::connect:
        ++pos_;
        continue;
      case tape_kind::outbound:
        if (sent_ <= matched_)
          return;
        ++matched_;
        ++pos_;
        continue;
      case tape_kind::close_requested:
        // The run's own end (Ctrl-C, --limit) is where the replay ends too;
        // any other close the engine made is played as it ended.
        if (!close_called_ && last_ && only_closed_follows())
          return;
        ++pos_;
        continue;
      default:
        return;
    }
  }
}

tape_playback::step tape_playback::next() {
  // skip() only passes what needs no action, so next() stays idempotent.
  skip();
  auto finished = [this] {
    return step{in_flight_ == 0 ? step_kind::end : step_kind::wait, nullptr};
  };
  if (pos_ == events_.size())
    return last_ ? finished() : step{step_kind::close, nullptr};
  auto& x = events_[pos_];
  switch (x.kind) {
    case tape_kind::opened: return {step_kind::open, &x};
    case tape_kind::inbound:
      if (in_flight_ >= max_in_flight_)
        return {};
      return {step_kind::frame, &x};
    case tape_kind::closed: return {step_kind::close, &x};
    case tape_kind::close_requested: return finished();
    default: return {};
  }
}

void tape_playback::done() {
  if (pos_ >= events_.size()) {
    pos_ = events_.size();
    return;
  }
  if (events_[pos_].kind == tape_kind::inbound)
    ++in_flight_;
  ++pos_;
}

// -- the player ---------------------------------------------------------------

namespace {

// Fires the replay's end once, whichever player or open() gets there.
struct replay_end {
  std::atomic<bool> fired{false};
  std::function<void()> callback;

  void fire() {
    if (!fired.exchange(true) && callback)
      callback();
  }
};

struct player_state {
  std::unique_ptr<tape_playback> core;
  caf::actor session;
  uint64_t epoch = 0;
  replay_pace pace = replay_pace::fast;
  /// Recorded time of the event acted on last.
  timestamp_ns previous = 0;
  bool timer_armed = false;
  /// The pace timer of the current step has run out.
  bool due = false;
  std::shared_ptr<replay_end> end;
  static inline const char* name = "athanor.tape_player";
};

using player_pointer = caf::stateful_actor<player_state>*;

void perform(player_pointer self, const tape_playback::step& s) {
  auto& st = self->state;
  using kind = tape_playback::step_kind;
  switch (s.kind) {
    case kind::open:
      self->send(st.session, link_opened{st.epoch});
      return;
    case kind::frame: {
      auto frame = s.event->data;
      auto encoding = s.event->binary ? protocol::codec::msgpack
                                      : protocol::codec::json;
      self->send(st.session, decode_link_frame(st.epoch, encoding, frame,
                                               s.event->time));
      return;
    }
    case kind::close: {
      link_closed msg;
      msg.epoch = st.epoch;
      if (s.event != nullptr) {
        msg.reason = s.event->end;
        msg.http_status = s.event->http_status;
        msg.close_code = s.event->close_code;
        msg.detail = s.event->data;
      } else {
        msg.reason = link_end::connection_lost;
        msg.detail = "the tape ends within this connection";
      }
      self->send(st.session, std::move(msg));
      return;
    }
    default:
      return;
  }
}

void pump(player_pointer self) {
  auto& st = self->state;
  using kind = tape_playback::step_kind;
  for (;;) {
    auto s = st.core->next();
    if (s.kind == kind::wait)
      return;
    if (s.kind == kind::end) {
      st.end->fire();
      return;
    }
    if (s.event != nullptr && st.pace == replay_pace::recorded && !st.due) {
      auto delay = s.event->time - st.previous;
      if (delay > 0) {
        if (!st.timer_armed) {
          st.timer_armed = true;
          self->delayed_send(self, std::chrono::nanoseconds{delay},
                             play_atom::value);
        }
        return;
      }
    }
    st.due = false;
    if (s.event != nullptr)
      st.previous = s.event->time;
    perform(self, s);
    st.core->done();
    if (s.kind == kind::close) {
      self->quit();
      return;
    }
  }
}

caf::behavior player_impl(player_pointer self,
                          std::shared_ptr<tape_playback> core,
                          caf::actor session, uint64_t epoch,
                          replay_pace pace, timestamp_ns previous,
                          std::shared_ptr<replay_end> end) {
  self->set_exception_handler(exception_to_exit_reason);
  auto& st = self->state;
  st.core.reset(new tape_playback(std::move(*core)));
  st.session = std::move(session);
  st.epoch = epoch;
  st.pace = pace;
  st.previous = previous;
  st.end = std::move(end);
  self->send(self, play_atom::value);
  return {
    [self](play_atom) {
      if (self->state.timer_armed) {
        self->state.timer_armed = false;
        self->state.due = true;
      }
      pump(self);
    },
    [self](link_sent_atom) {
      self->state.core->on_sent();
      pump(self);
    },
    [self](link_ack_atom, uint64_t frames) {
      self->state.core->on_ack(frames);
      pump(self);
    },
    [self](link_close_atom) {
      // The session is done with this connection: tell it so at once, as a
      // transport does within its close timeout.
      auto& st = self->state;
      st.core->on_close();
      self->send(st.session, link_closed{st.epoch, link_end::closed, 0, 1000,
                                         "closed by the session"});
      self->quit();
    },
  };
}

class tape_link : public link {
 public:
  explicit tape_link(caf::actor player) : player_(std::move(player)) {}

  ~tape_link() override {
    caf::anon_send_exit(player_, caf::exit_reason::user_shutdown);
  }

  void send(std::string) override {
    caf::anon_send(player_, link_sent_atom::value);
  }

  void ack(size_t frames) override {
    caf::anon_send(player_, link_ack_atom::value,
                   static_cast<uint64_t>(frames));
  }

  void close() override {
    caf::anon_send(player_, link_close_atom::value);
  }

 private:
  caf::actor player_;
};

// After the tape: a connection that never gets anywhere.
class silent_link : public link {
 public:
  void send(std::string) override {}
  void ack(size_t) override {}
  void close() override {}
};

class tape_link_factory : public link_factory {
 public:
  tape_link_factory(caf::actor_system& sys,
                    std::vector<tape_connection> connections,
                    tape_link_options opts)
    : sys_(sys),
      connections_(std::move(connections)),
      pace_(opts.pace),
      max_in_flight_(opts.max_in_flight),
      end_(std::make_shared<replay_end>()) {
    end_->callback = std::move(opts.on_end);
    for (size_t i = 0; i < connections_.size(); ++i) {
      auto& events = connections_[i].events;
      auto start = events.empty() ? 0 : events.front().time;
      previous_.push_back(i == 0 || connections_[i - 1].events.empty()
                            ? start
                            : connections_[i - 1].events.back().time);
    }
  }

  std::unique_ptr<link> open(link_request req) override {
    auto i = next_.fetch_add(1);
    if (i >= connections_.size()) {
      log::info("tape_link", "tape_over",
                {{"connections", connections_.size()}});
      end_->fire();
      return std::make_unique<silent_link>();
    }
    auto core = std::make_shared<tape_playback>(std::move(connections_[i]),
                                                i + 1 == connections_.size(),
                                                max_in_flight_);
    auto player = sys_.spawn(player_impl, std::move(core), req.session,
                             req.epoch, pace_, previous_[i], end_);
    return std::make_unique<tape_link>(std::move(player));
  }

 private:
  caf::actor_system& sys_;
  std::vector<tape_connection> connections_;
  std::vector<timestamp_ns> previous_;
  replay_pace pace_;
  size_t max_in_flight_;
  std::shared_ptr<replay_end> end_;
  std::atomic<size_t> next_{0};
};

} // namespace

std::shared_ptr<link_factory>
make_tape_link_factory(caf::actor_system& sys,
                       std::vector<tape_connection> connections,
                       tape_link_options opts) {
  return std::make_shared<tape_link_factory>(sys, std::move(connections),
                                             std::move(opts));
}

} // namespace athanor

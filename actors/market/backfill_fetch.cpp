#include "actors/market/backfill_fetch.hpp"

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"

#include <optional>

#include "actors/common/exception_handler.hpp"
#include "messages/error.hpp"
#include "messages/record_kinds.hpp"

namespace athanor {

namespace {

struct fetch_state {
  backfill_fetch_config cfg;
  size_t index = 0;
  batch data;
  bool finished = false;
  static inline const char* name = "athanor.backfill_fetch";
};

using fetch_pointer = caf::stateful_actor<fetch_state>*;

void next(fetch_pointer self);

void finish(fetch_pointer self, std::string error) {
  auto& st = self->state;
  if (st.finished)
    return;
  st.finished = true;
  backfill_result result;
  result.job = st.cfg.job;
  result.error = std::move(error);
  if (result.error.empty())
    result.data = std::move(st.data);
  self->send(st.cfg.reply_to, std::move(result));
  self->quit();
}

void append(batch& to, batch& from) {
  for_each_kind(to, from, [](auto& xs, auto& ys) {
    xs.insert(xs.end(), std::make_move_iterator(ys.begin()),
              std::make_move_iterator(ys.end()));
  });
}

void fetch_page(fetch_pointer self, std::optional<uint64_t> permit) {
  auto& st = self->state;
  auto report = [self, permit](call_outcome how) {
    if (permit)
      self->send(self->state.cfg.breaker, outcome_atom::value, *permit, how,
                 trace::root());
  };
  self
    ->request(st.cfg.history, caf::infinite, history_atom::value,
              st.cfg.requests[st.index], trace::root())
    .then(
      [self, report](history_page& page) {
        report(call_outcome::success);
        auto& st = self->state;
        append(st.data, page.data);
        if (st.data.size() > st.cfg.max_records) {
          finish(self, "more than " + std::to_string(st.cfg.max_records)
                         + " records to fetch");
          return;
        }
        if (page.next_page_token.empty())
          ++st.index;
        else
          st.cfg.requests[st.index].page_token = page.next_page_token;
        next(self);
      },
      [self, report](caf::error& err) {
        auto code = errc_of(err);
        report(code ? outcome_of(*code) : call_outcome::failure);
        finish(self, render(err));
      });
}

void next(fetch_pointer self) {
  auto& st = self->state;
  if (st.index == st.cfg.requests.size()) {
    finish(self, {});
    return;
  }
  if (!st.cfg.breaker) {
    fetch_page(self, std::nullopt);
    return;
  }
  self->request(st.cfg.breaker, caf::infinite, permit_atom::value, trace::root())
    .then([self](permit& granted) { fetch_page(self, granted.id); },
          [self](caf::error& err) {
            finish(self, "the breaker refused: " + render(err));
          });
}

caf::behavior fetch_impl(fetch_pointer self, backfill_fetch_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.cfg = std::move(cfg);
  self->delayed_send(self, self->state.cfg.timeout, timeout_atom::value,
                     uint64_t{0});
  next(self);
  return {
    [self](timeout_atom, uint64_t) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  self->state.cfg.timeout)
                  .count();
      finish(self, "no complete history within " + std::to_string(ms) + " ms");
    },
  };
}

} // namespace

caf::actor spawn_backfill_fetch(caf::actor_system& sys,
                                backfill_fetch_config cfg) {
  return sys.spawn(fetch_impl, std::move(cfg));
}

} // namespace athanor

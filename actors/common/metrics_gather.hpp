#pragma once

// Metrics of a group of actors, collected by one of them: asks every source
// for metrics_atom and hands `own` plus every answer to `done`. A source
// that fails or stays silent past `timeout` is left out, so one stuck actor
// cannot hide the others' figures.

#include <functional>
#include <memory>
#include <vector>

#include "caf/actor.hpp"
#include "caf/timespan.hpp"

#include "messages/atoms.hpp"
#include "messages/metrics.hpp"

namespace athanor {

template<class Self>
void gather_metrics(Self* self, const std::vector<caf::actor>& sources,
                    metric_samples own, caf::timespan timeout,
                    std::function<void(metric_samples&)> done) {
  struct gathering {
    metric_samples samples;
    size_t pending = 0;
    std::function<void(metric_samples&)> done;
  };
  auto g = std::make_shared<gathering>();
  g->samples = std::move(own);
  g->done = std::move(done);
  g->pending = 1; // released below, after every request is out
  auto one_done = [g] {
    if (--g->pending == 0)
      g->done(g->samples);
  };
  for (auto& source : sources) {
    if (!source)
      continue;
    ++g->pending;
    self->request(source, timeout, metrics_atom::value)
      .then(
        [g, one_done](metric_samples& xs) {
          g->samples.insert(g->samples.end(), xs.begin(), xs.end());
          one_done();
        },
        [one_done](caf::error&) { one_done(); });
  }
  one_done();
}

} // namespace athanor

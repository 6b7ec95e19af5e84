#pragma once

// The admin endpoint's requests, as the transport hands them to the admin
// actor. The answer goes back through a seam object, so no HTTP or Asio
// type appears here.

#include <memory>
#include <string>

#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "messages/atoms.hpp"

namespace athanor {

/// Takes the answer to one admin request; callable from any thread, once.
class admin_answer {
 public:
  virtual ~admin_answer() = default;
  virtual void send(int status, std::string content_type, std::string body)
    = 0;
};

struct admin_query {
  /// The request's path without the query, e.g. "/metrics".
  std::string path;
  std::shared_ptr<admin_answer> answer;
};

/// Only the path crosses a serializer: the answer is a local object.
template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, admin_query& x) {
  return f(caf::meta::type_name("athanor.admin_query"), x.path);
}

/// Serves /healthz, /readyz, /metrics, /status and /status.json.
using admin_actor = caf::typed_actor<caf::reacts_to<admin_query>,
                                     // Timer: sample the history.
                                     caf::reacts_to<timeout_atom>>;

} // namespace athanor

#pragma once

// A scripted fake transport for stream-session tests: it records every link
// the session opens, every frame sent on it and every acknowledgement, and
// lets the test play the server by sending link events.

#include <memory>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "actors/market/link.hpp"
#include "protocol/market_data.hpp"

namespace athanor::testing {

struct fake_link_record {
  link_request request;
  std::vector<std::string> sent;
  size_t acks = 0;
  bool close_requested = false;
  bool destroyed = false;
};

class fake_link : public link {
 public:
  explicit fake_link(std::shared_ptr<fake_link_record> rec)
    : rec_(std::move(rec)) {}

  ~fake_link() override {
    rec_->destroyed = true;
  }

  void send(std::string frame) override {
    rec_->sent.push_back(std::move(frame));
  }

  void ack(size_t frames) override {
    rec_->acks += frames;
  }

  void close() override {
    rec_->close_requested = true;
  }

 private:
  std::shared_ptr<fake_link_record> rec_;
};

class fake_link_factory : public link_factory {
 public:
  std::unique_ptr<link> open(link_request req) override {
    auto rec = std::make_shared<fake_link_record>();
    rec->request = std::move(req);
    links.push_back(rec);
    return std::make_unique<fake_link>(rec);
  }

  std::vector<std::shared_ptr<fake_link_record>> links;
};

/// Returns a key's fingerprint by value (CAF_CHECK_EQUAL binds each operand
/// in its own statement, so a reference into a temporary would dangle).
inline std::string fingerprint_of(const std::string& key) {
  return secret{key}.fingerprint();
}

/// Records what a subscriber receives.
struct recorded {
  std::vector<batch> batches;
  std::vector<gap> gaps;
  /// "b" or "g" per message, in arrival order.
  std::string order;
};

inline caf::behavior recorder(caf::event_based_actor*,
                              std::shared_ptr<recorded> out) {
  return {
    [out](batch& x) {
      out->batches.push_back(std::move(x));
      out->order += 'b';
    },
    [out](gap& x) {
      out->gaps.push_back(std::move(x));
      out->order += 'g';
    },
  };
}

} // namespace athanor::testing

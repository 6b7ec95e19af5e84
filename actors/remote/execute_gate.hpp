#pragma once

// Who may execute plans through the published front: the pure rules behind
// remote_front. With an allow-list, a peer proves it holds an allow-listed
// certificate by signing a single-use challenge together with the plan_id;
// CAF 0.17's TLS does not show the actor which certificate the connection
// used, so the proof is made in the message instead.

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace athanor {

struct execute_gate_config {
  /// athanor.remote.execute: without it every plan is refused.
  bool allow = false;
  /// athanor.remote.execute-peers: "sha256:AB:CD:…" fingerprints or
  /// subjects ("CN=desk-1,O=Example"); empty: any peer the transport
  /// admits.
  std::vector<std::string> peers;
  /// The CAs a proving certificate must verify against (PEM).
  std::string ca_pem;
  std::chrono::seconds challenge_ttl{30};
  /// Challenges outstanding at once; the oldest goes first (a peer that
  /// asks and never executes cannot grow the table).
  size_t max_challenges = 1024;
};

class execute_gate {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit execute_gate(execute_gate_config cfg);

  /// Whether a plan needs a certificate proof.
  bool needs_proof() const {
    return cfg_.allow && !cfg_.peers.empty();
  }

  /// A new single-use challenge for a peer on `node`.
  std::string challenge(const std::string& node, time_point now);

  struct decision {
    /// "" when permitted, else why not (for the peer and the log).
    std::string refusal;
    /// The proving certificate's fingerprint ("" without a proof).
    std::string fingerprint;

    bool permitted() const {
      return refusal.empty();
    }
  };

  /// Judges one plan from `node`; the challenge is used up either way.
  decision admit(const std::string& node, const std::string& plan_id,
                 const std::string& nonce, const std::string& certificate_pem,
                 const std::string& signature, time_point now);

  /// Judges a plan that came without a proof.
  decision admit_unproven() const;

  size_t outstanding() const {
    return challenges_.size();
  }

  /// What a peer signs: the challenge bound to one plan.
  static std::string signed_text(const std::string& nonce,
                                 const std::string& plan_id);

  /// Whether `entry` names the certificate (fingerprints compare without
  /// case or colons; subjects exactly).
  static bool matches(const std::string& entry, const std::string& fingerprint,
                      const std::string& subject);

 private:
  struct issued {
    std::string node;
    time_point expires;
    uint64_t order;
  };

  execute_gate_config cfg_;
  std::map<std::string, issued> challenges_;
  uint64_t next_order_ = 0;
};

} // namespace athanor

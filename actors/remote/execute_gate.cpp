#include "actors/remote/execute_gate.hpp"

#include <algorithm>
#include <cctype>

#include "transport/tls.hpp"

namespace athanor {

namespace {

// Upper-case hex digits only: "sha256:ab:CD" and "sha256:ABCD" are one.
std::string normalized_fingerprint(const std::string& x) {
  std::string result;
  for (auto c : x.substr(7))
    if (c != ':')
      result += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

bool is_fingerprint(const std::string& x) {
  return x.size() > 7 && x.compare(0, 7, "sha256:") == 0;
}

} // namespace

execute_gate::execute_gate(execute_gate_config cfg) : cfg_(std::move(cfg)) {}

std::string execute_gate::challenge(const std::string& node, time_point now) {
  for (auto i = challenges_.begin(); i != challenges_.end();)
    i = i->second.expires <= now ? challenges_.erase(i) : std::next(i);
  if (challenges_.size() >= cfg_.max_challenges) {
    auto oldest = std::min_element(
      challenges_.begin(), challenges_.end(), [](auto& a, auto& b) {
        return a.second.order < b.second.order;
      });
    challenges_.erase(oldest);
  }
  auto nonce = transport::random_hex(32);
  challenges_[nonce] = issued{node, now + cfg_.challenge_ttl, next_order_++};
  return nonce;
}

execute_gate::decision execute_gate::admit_unproven() const {
  decision result;
  if (!cfg_.allow)
    result.refusal = "this engine does not execute plans for remote peers "
                     "(athanor.remote.execute=false)";
  else if (needs_proof())
    result.refusal = "this engine executes plans only for allow-listed "
                     "certificates (athanor.remote.execute-peers): give "
                     "athanor.remote.certificate and key";
  return result;
}

execute_gate::decision
execute_gate::admit(const std::string& node, const std::string& plan_id,
                    const std::string& nonce,
                    const std::string& certificate_pem,
                    const std::string& signature, time_point now) {
  if (!needs_proof())
    return admit_unproven();
  decision result;
  auto i = challenges_.find(nonce);
  if (i == challenges_.end() || i->second.expires <= now
      || i->second.node != node) {
    if (i != challenges_.end())
      challenges_.erase(i);
    result.refusal = "unknown or expired challenge: ask for a new one";
    return result;
  }
  challenges_.erase(i);
  auto proof = transport::check_signature(
    certificate_pem, cfg_.ca_pem, signed_text(nonce, plan_id), signature);
  result.fingerprint = proof.fingerprint;
  if (!proof.problem.empty()) {
    result.refusal = "certificate proof refused: " + proof.problem;
    return result;
  }
  auto listed = std::any_of(cfg_.peers.begin(), cfg_.peers.end(),
                            [&](const std::string& entry) {
                              return matches(entry, proof.fingerprint,
                                             proof.subject);
                            });
  if (!listed)
    result.refusal = "certificate " + proof.fingerprint + " (" + proof.subject
                     + ") is not in athanor.remote.execute-peers";
  return result;
}

std::string execute_gate::signed_text(const std::string& nonce,
                                      const std::string& plan_id) {
  return "athanor-execute-v1\n" + nonce + "\n" + plan_id;
}

bool execute_gate::matches(const std::string& entry,
                           const std::string& fingerprint,
                           const std::string& subject) {
  if (is_fingerprint(entry))
    return is_fingerprint(fingerprint)
           && normalized_fingerprint(entry)
                == normalized_fingerprint(fingerprint);
  return !subject.empty() && entry == subject;
}

} // namespace athanor

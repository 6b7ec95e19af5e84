#define CAF_SUITE unit.execute_gate
#include "actors/remote/execute_gate.hpp"

#include "caf/test/unit_test.hpp"

#include "transport/tls.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

struct fixture {
  transport::pem_pair ca = transport::make_self_signed({"desk-1"});
  transport::pem_pair observer = transport::make_self_signed({"observer"});
  transport::pem_pair stranger = transport::make_self_signed({"stranger"});
  execute_gate::time_point now{};

  execute_gate gate_for(std::vector<std::string> peers) {
    execute_gate_config cfg;
    cfg.allow = true;
    cfg.peers = std::move(peers);
    // Both desk-1 and observer verify; stranger does not.
    cfg.ca_pem = ca.certificate + observer.certificate;
    cfg.max_challenges = 4;
    return execute_gate{cfg};
  }

  execute_gate::decision prove(execute_gate& gate,
                               const transport::pem_pair& who,
                               const std::string& plan_id = "p-1",
                               const std::string& node = "node-a") {
    auto nonce = gate.challenge(node, now);
    auto sig = transport::sign_message(
      who.private_key, execute_gate::signed_text(nonce, plan_id));
    return gate.admit(node, plan_id, nonce, who.certificate, sig, now);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(execute_gate_tests, fixture)

CAF_TEST(without execute every plan is refused naming the option) {
  execute_gate gate{execute_gate_config{}};
  auto d = gate.admit_unproven();
  CAF_CHECK(!d.permitted());
  CAF_CHECK_NOT_EQUAL(d.refusal.find("athanor.remote.execute=false"),
                      std::string::npos);
  CAF_CHECK(!prove(gate, ca).permitted());
}

CAF_TEST(execute without an allow list admits every peer) {
  auto gate = gate_for({});
  CAF_CHECK(!gate.needs_proof());
  CAF_CHECK(gate.admit_unproven().permitted());
}

CAF_TEST(an allow listed certificate by fingerprint or subject executes) {
  auto fingerprint = transport::certificate_fingerprint(ca.certificate);
  auto by_fingerprint = gate_for({fingerprint});
  CAF_CHECK(by_fingerprint.needs_proof());
  CAF_CHECK(!by_fingerprint.admit_unproven().permitted());
  auto d = prove(by_fingerprint, ca);
  CAF_CHECK(d.permitted());
  CAF_CHECK_EQUAL(d.fingerprint, fingerprint);
  auto by_subject = gate_for({"CN=desk-1"});
  CAF_CHECK(prove(by_subject, ca).permitted());
  CAF_CHECK(!prove(by_subject, observer).permitted());
}

CAF_TEST(fingerprints compare without case or colons) {
  auto fp = transport::certificate_fingerprint(ca.certificate);
  std::string plain = "sha256:";
  for (auto c : fp.substr(7))
    if (c != ':')
      plain += static_cast<char>(std::tolower(c));
  CAF_CHECK(execute_gate::matches(plain, fp, ""));
  auto other = plain;
  other.back() = other.back() == '0' ? '1' : '0';
  CAF_CHECK(!execute_gate::matches(other, fp, ""));
  CAF_CHECK(!execute_gate::matches("CN=desk-1", fp, ""));
}

CAF_TEST(a verified certificate off the list is refused naming it) {
  auto gate = gate_for({"CN=desk-1"});
  auto d = prove(gate, observer);
  CAF_CHECK(!d.permitted());
  CAF_CHECK_EQUAL(d.fingerprint,
                  transport::certificate_fingerprint(observer.certificate));
  CAF_CHECK_NOT_EQUAL(d.refusal.find(d.fingerprint), std::string::npos);
  CAF_CHECK_NOT_EQUAL(d.refusal.find("execute-peers"), std::string::npos);
}

CAF_TEST(a listed name on a certificate the CA did not sign is refused) {
  // The stranger's certificate is listed by fingerprint but verifies
  // against no configured CA.
  auto gate = gate_for(
    {transport::certificate_fingerprint(stranger.certificate)});
  auto d = prove(gate, stranger);
  CAF_CHECK(!d.permitted());
  CAF_CHECK_NOT_EQUAL(d.refusal.find("does not verify"), std::string::npos);
}

CAF_TEST(the proof binds one challenge one node and one plan) {
  auto gate = gate_for({"CN=desk-1"});
  auto text = [](const std::string& n, const std::string& p) {
    return execute_gate::signed_text(n, p);
  };
  // Signed for another plan.
  auto nonce = gate.challenge("node-a", now);
  auto sig = transport::sign_message(ca.private_key, text(nonce, "other"));
  auto d = gate.admit("node-a", "p-1", nonce, ca.certificate, sig, now);
  CAF_CHECK_NOT_EQUAL(d.refusal.find("signature does not match"),
                      std::string::npos);
  // Used up by that attempt, even though it failed.
  sig = transport::sign_message(ca.private_key, text(nonce, "p-1"));
  d = gate.admit("node-a", "p-1", nonce, ca.certificate, sig, now);
  CAF_CHECK_NOT_EQUAL(d.refusal.find("challenge"), std::string::npos);
  // Issued to another node.
  nonce = gate.challenge("node-a", now);
  sig = transport::sign_message(ca.private_key, text(nonce, "p-1"));
  CAF_CHECK(!gate.admit("node-b", "p-1", nonce, ca.certificate, sig, now)
               .permitted());
  // Signed by a key that is not the certificate's.
  nonce = gate.challenge("node-a", now);
  sig = transport::sign_message(observer.private_key, text(nonce, "p-1"));
  CAF_CHECK(!gate.admit("node-a", "p-1", nonce, ca.certificate, sig, now)
               .permitted());
  // Garbage in every field is refused, never thrown.
  nonce = gate.challenge("node-a", now);
  CAF_CHECK(!gate.admit("node-a", "p-1", nonce, "junk", "zz", now)
               .permitted());
}

CAF_TEST(challenges expire and their table stays bounded) {
  auto gate = gate_for({"CN=desk-1"});
  auto nonce = gate.challenge("node-a", now);
  auto sig = transport::sign_message(
    ca.private_key, execute_gate::signed_text(nonce, "p-1"));
  auto late = now + 31s;
  CAF_CHECK(!gate.admit("node-a", "p-1", nonce, ca.certificate, sig, late)
               .permitted());
  for (int i = 0; i < 100; ++i)
    gate.challenge("node-a", now);
  CAF_CHECK_EQUAL(gate.outstanding(), 4u);
  // The newest still works; an evicted one does not.
  auto first = gate.challenge("node-a", now);
  for (int i = 0; i < 4; ++i)
    gate.challenge("node-a", now);
  sig = transport::sign_message(ca.private_key,
                                execute_gate::signed_text(first, "p-1"));
  CAF_CHECK(!gate.admit("node-a", "p-1", first, ca.certificate, sig, now)
               .permitted());
  CAF_CHECK(prove(gate, ca).permitted());
}

CAF_TEST_FIXTURE_SCOPE_END()

#define CAF_SUITE sim.binary
#include "caf/test/unit_test.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "http_client.hpp"
#include "ws_client.hpp"

using namespace std::chrono_literals;
using athanor::testing::ws_client;

namespace {

// Runs athanor-sim with `args`; reads the first stdout line.
struct sim_process {
  pid_t pid = -1;
  std::string first_line;

  explicit sim_process(std::vector<std::string> args) {
    int out[2];
    CAF_REQUIRE(pipe(out) == 0);
    pid = fork();
    CAF_REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv{const_cast<char*>(ATHANOR_SIM_BINARY)};
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    auto in = fdopen(out[0], "r");
    char buf[256] = {0};
    if (fgets(buf, sizeof(buf), in) != nullptr)
      first_line = buf;
    fclose(in);
  }

  uint16_t port() const {
    auto colon = first_line.rfind(':');
    return colon == std::string::npos
             ? 0
             : static_cast<uint16_t>(std::stoi(first_line.substr(colon + 1)));
  }

  // SIGTERM; returns the exit status.
  int stop() {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  ~sim_process() {
    if (pid > 0)
      stop();
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

CAF_TEST(athanor sim announces its port and serves until terminated) {
  sim_process sim{{"--port=0", "--rate=100"}};
  CAF_CHECK_EQUAL(sim.first_line.rfind("listening ws://127.0.0.1:", 0), 0u);
  CAF_REQUIRE_NOT_EQUAL(sim.port(), 0);
  ws_client client{sim.port(), "/v2/iex"};
  CAF_CHECK(client.open());
  CAF_CHECK(client.read(3000ms).has_value());
  CAF_CHECK_EQUAL(sim.stop(), 0);
}

CAF_TEST(athanor sim with tls writes the certificate clients trust) {
  auto cert = "/tmp/athanor-sim-test-" + std::to_string(getpid()) + ".pem";
  sim_process sim{{"--port=0", "--tls", "--tls-cert-out=" + cert}};
  CAF_CHECK_EQUAL(sim.first_line.rfind("listening wss://127.0.0.1:", 0), 0u);
  athanor::testing::ws_client_options opts;
  opts.tls_ca_pem = read_file(cert);
  std::remove(cert.c_str());
  ws_client client{sim.port(), "/v2/iex", opts};
  CAF_CHECK(client.open());
  CAF_CHECK_EQUAL(sim.stop(), 0);
}

CAF_TEST(athanor sim refuses unknown options and bad files) {
  sim_process bad{{"--bogus"}};
  CAF_CHECK(bad.first_line.empty());
  CAF_CHECK_EQUAL(bad.stop(), 64);
  sim_process missing{{"--scenario=/nonexistent/scenario.txt"}};
  CAF_CHECK_EQUAL(missing.stop(), 66);
}

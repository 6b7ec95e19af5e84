#pragma once

// Runs a program as a child process with its own environment, collecting
// stdout and stderr; for tests of the binaries as users run them.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

namespace athanor::testing {

class child_process {
 public:
  child_process(const std::string& program, std::vector<std::string> args,
                std::map<std::string, std::string> env = {});
  ~child_process();

  /// Reads output until stdout holds `lines` lines or `timeout` passes.
  /// Returns whether it does.
  bool wait_for_lines(size_t lines, std::chrono::milliseconds timeout);

  /// Reads output until stderr holds `text` or `timeout` passes. Returns
  /// whether it does.
  bool wait_for_err(const std::string& text,
                    std::chrono::milliseconds timeout);

  /// Sends `sig` to the child.
  void signal(int sig);

  /// Whether the child has ended (reaping it if so; wait() then returns
  /// its code at once).
  bool exited();

  pid_t pid() const {
    return pid_;
  }

  /// Waits for the exit (reading output meanwhile). Returns the exit code,
  /// or -1 if it did not end within `timeout` (the child is then killed).
  int wait(std::chrono::milliseconds timeout);

  const std::string& out() const {
    return out_;
  }

  const std::string& err() const {
    return err_;
  }

  /// Returns stdout split into lines.
  std::vector<std::string> out_lines() const;

 private:
  // Reads what is available, waiting at most `wait`.
  void pump(std::chrono::milliseconds wait);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  int status_ = -1;
};

/// A directory of its own under /tmp, removed with everything in it.
struct temp_dir {
  std::string path;

  temp_dir() {
    char name[] = "/tmp/athanor-test-XXXXXX";
    path = mkdtemp(name);
  }

  ~temp_dir() {
    std::system(("rm -rf '" + path + "'").c_str());
  }

  /// Writes `text` to `file` in the directory; returns its path.
  std::string write(const std::string& file, const std::string& text) const {
    auto full = path + "/" + file;
    std::ofstream{full} << text;
    return full;
  }
};

/// How often `what` occurs in `text`.
inline size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + 1))
    ++n;
  return n;
}

} // namespace athanor::testing

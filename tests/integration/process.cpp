#include "process.hpp"

#include <csignal>
#include <stdexcept>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace athanor::testing {

child_process::child_process(const std::string& program,
                             std::vector<std::string> args,
                             std::map<std::string, std::string> env) {
  // Everything the child needs is built before the fork: after it, in a
  // process with other threads (the simulator, CAF), the child may only
  // make async-signal-safe calls. An allocation there can meet a lock
  // another thread held at the fork (ASan's allocator spins on it forever).
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  // Tests run engines side by side: none may take the fixed admin port.
  env.emplace("ATHANOR_ADMIN_PORT", "0");
  std::vector<std::string> env_lines;
  for (auto& [k, v] : env)
    env_lines.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& line : env_lines)
    envp.push_back(line.data());
  envp.push_back(nullptr);
  int out[2];
  int err[2];
  if (pipe(out) != 0 || pipe(err) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    close(err[0]);
    close(err[1]);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

child_process::~child_process() {
  if (status_ == -1 && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0)
    close(out_fd_);
  if (err_fd_ >= 0)
    close(err_fd_);
}

void child_process::pump(std::chrono::milliseconds wait) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (poll(fds, 2, static_cast<int>(wait.count())) <= 0)
    return;
  char buf[65536];
  for (int i = 0; i < 2; ++i) {
    if ((fds[i].revents & (POLLIN | POLLHUP)) == 0)
      continue;
    auto n = read(fds[i].fd, buf, sizeof(buf));
    if (n > 0)
      (i == 0 ? out_ : err_).append(buf, static_cast<size_t>(n));
  }
}

bool child_process::wait_for_lines(size_t lines,
                                   std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out_lines().size() < lines) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    pump(std::chrono::milliseconds{50});
  }
  return true;
}

bool child_process::wait_for_err(const std::string& text,
                                 std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (err_.find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    pump(std::chrono::milliseconds{50});
  }
  return true;
}

void child_process::signal(int sig) {
  kill(pid_, sig);
}

bool child_process::exited() {
  if (status_ >= 0)
    return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_)
    return false;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

int child_process::wait(std::chrono::milliseconds timeout) {
  if (status_ >= 0)
    return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pump(std::chrono::milliseconds{20});
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      // Drain what is left in the pipes.
      for (int i = 0; i < 10; ++i)
        pump(std::chrono::milliseconds{5});
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return status_;
    }
  }
  return -1;
}

std::vector<std::string> child_process::out_lines() const {
  std::vector<std::string> result;
  size_t start = 0;
  while (true) {
    auto nl = out_.find('\n', start);
    if (nl == std::string::npos)
      break;
    result.push_back(out_.substr(start, nl - start));
    start = nl + 1;
  }
  return result;
}

} // namespace athanor::testing

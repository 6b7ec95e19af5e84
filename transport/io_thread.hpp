#pragma once

// The I/O thread that runs every transport client's sockets. Actors never
// touch a socket: clients post work here and report back through callbacks.

#include <functional>
#include <memory>

namespace athanor::transport {

class io_thread {
 public:
  io_thread();
  /// Stops the I/O loop and joins the thread.
  ~io_thread();

  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;

  /// Runs `f` on the I/O thread.
  void post(std::function<void()> f);

  /// Runs `f` on the I/O thread and returns once it ran (at once when
  /// called on the I/O thread itself).
  void run_and_wait(std::function<void()> f);

  /// Returns whether the caller runs on the I/O thread.
  bool in_this_thread() const;

  /// Opaque; public so clients in transport/*.cpp can reach the io_context.
  struct impl;
  impl& get() {
    return *impl_;
  }

 private:
  std::unique_ptr<impl> impl_;
};

} // namespace athanor::transport

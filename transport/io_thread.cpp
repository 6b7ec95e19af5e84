#include "transport/io_thread.hpp"

#include <future>
#include <thread>

#include "transport/detail/io_context.hpp"

namespace athanor::transport {

io_thread::io_thread() : impl_(std::make_unique<impl>()) {
  impl_->thread = std::thread{[this] { impl_->ioc.run(); }};
}

io_thread::~io_thread() {
  impl_->work.reset();
  boost::asio::post(impl_->ioc, [this] { impl_->ioc.stop(); });
  impl_->thread.join();
}

bool io_thread::in_this_thread() const {
  return std::this_thread::get_id() == impl_->thread.get_id();
}

void io_thread::run_and_wait(std::function<void()> f) {
  if (in_this_thread()) {
    f();
    return;
  }
  std::promise<void> done;
  post([&f, &done] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

void io_thread::post(std::function<void()> f) {
  boost::asio::post(impl_->ioc, std::move(f));
}

} // namespace athanor::transport

#pragma once

// io_thread's insides, for transport/*.cpp only (pulls in Asio).

#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "transport/io_thread.hpp"

namespace athanor::transport {

struct io_thread::impl {
  boost::asio::io_context ioc{1};
  std::optional<
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
    work{boost::asio::make_work_guard(ioc)};
  std::thread thread;
};

} // namespace athanor::transport

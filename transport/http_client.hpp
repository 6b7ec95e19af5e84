#pragma once

// An HTTP/1.1 client for one REST base URL (http:// or https://). It keeps
// up to `max_connections` keep-alive connections, verifies the server's
// certificate (system store or a given CA, never silently off), gives every
// request its own deadline, and answers each request exactly once through
// its callback, on the I/O thread. Requests queue while every connection is
// busy. No retries happen here: whether a request may be repeated is the
// caller's decision (a POST may have been carried out).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "transport/io_thread.hpp"

namespace athanor::transport {

/// How a request ended.
enum class http_outcome : uint8_t {
  /// A response came (any status).
  answered,
  bad_url,
  resolve_failed,
  connect_failed,
  tls_failed,
  certificate_invalid,
  /// No complete response within the request's timeout. The server may
  /// have carried the request out.
  timeout,
  /// The connection broke after the request was (maybe) sent.
  connection_lost,
  /// The client was destroyed first.
  canceled,
};

std::string to_string(http_outcome x);

struct http_call {
  /// GET, POST, DELETE, PATCH.
  std::string method = "GET";
  /// Path and query, e.g. "/v2/orders?status=open".
  std::string target;
  std::map<std::string, std::string> headers;
  /// Sent as application/json when not empty.
  std::string body;
  std::chrono::nanoseconds timeout = std::chrono::seconds{10};
};

struct http_reply {
  http_outcome outcome = http_outcome::answered;
  int status = 0;
  /// Header names in lower case.
  std::map<std::string, std::string> headers;
  std::string body;
  /// Why it failed (outcome other than answered).
  std::string detail;
  /// When the response arrived (wall clock, ns since the epoch), so callers
  /// can turn X-Ratelimit-Reset (epoch seconds) into a delay without
  /// reading a clock themselves.
  int64_t received_at = 0;
};

struct http_client_options {
  /// http://host[:port] or https://host[:port]; a path is ignored.
  std::string base_url;
  std::string ca_file;
  std::string ca_pem;
  /// Connections opened at most at once.
  size_t max_connections = 4;
  /// Idle connections are closed after this long (servers drop them too).
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds{30};
};

class http_client {
 public:
  using callback = std::function<void(http_reply)>;

  static std::unique_ptr<http_client> create(io_thread& io,
                                             http_client_options opts);

  /// Cancels queued and running requests (their callbacks get `canceled`
  /// before this returns, unless called on the I/O thread itself) and
  /// closes every connection.
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Queues a request (any thread).
  void request(http_call call, callback done);

  /// Opaque; public so transport/http_client.cpp can derive from it.
  struct impl;

 private:
  http_client(io_thread& io, std::shared_ptr<impl> x);

  io_thread& io_;
  std::shared_ptr<impl> impl_;
};

} // namespace athanor::transport

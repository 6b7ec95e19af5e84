#pragma once

// A minimal blocking WebSocket client for integration tests, plain or TLS.
// Every read has a deadline, so a test that waits for something that never
// comes fails instead of hanging.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace athanor::testing {

struct ws_frame {
  std::string data;
  bool binary = false;
};

struct ws_client_options {
  std::map<std::string, std::string> headers;
  bool deflate = false;
  /// Speak wss:// and trust only this CA (PEM); empty means plain ws://.
  std::string tls_ca_pem;
  /// The name the server's certificate must carry (and the SNI).
  std::string tls_host = "localhost";
  /// With TLS: present this certificate and key (PEM) to the server.
  std::string tls_client_certificate_pem;
  std::string tls_client_key_pem;
  /// SO_RCVBUF before connecting (0: the system's); a small one makes a
  /// client that does not read look slow to the server at once.
  int receive_buffer = 0;
};

class ws_client {
 public:
  /// Connects to 127.0.0.1:port/path. On a declined upgrade or a failed
  /// TLS handshake, `status()` tells why and the client is not open.
  ws_client(uint16_t port, const std::string& path,
            ws_client_options opts = {});

  ws_client(uint16_t port, const std::string& path,
            std::map<std::string, std::string> headers, bool deflate = false);

  ~ws_client();

  bool open() const;
  /// The HTTP status of the upgrade response: 101 when accepted, 0 if none
  /// came (connection or TLS failure).
  int status() const;
  /// Whether permessage-deflate was negotiated.
  bool deflated() const;

  /// Reads the next frame, or nullopt after `timeout` or when the
  /// connection ends (then `open()` turns false).
  std::optional<ws_frame>
  read(std::chrono::milliseconds timeout = std::chrono::milliseconds{5000});

  void send(const std::string& data, bool binary);
  /// Sends a ping and waits for its pong; false if none came in time.
  bool ping(std::chrono::milliseconds timeout);
  /// Closes cleanly.
  void close();
  /// Drops the TCP connection without a close frame.
  void reset();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

} // namespace athanor::testing

#pragma once

#include "api/http_types.hpp"
#include "common/error.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace mistral::api {

/// The HTTP transport: a cpprest listener that turns each request into an
/// http_request and hands it to a sink with a responder. It knows nothing
/// of routes or actors; cpprest headers stay inside http_server.cpp.
class http_server {
public:
  using sink = std::function<void(http_request, responder)>;

  /// Binds host:port and starts serving on `threads` pool threads.
  /// Fails when the address cannot be bound.
  static result<std::unique_ptr<http_server>> start(const std::string& host, std::uint16_t port, sink s,
                                                    int threads = 4);

  /// Stops accepting and closes the listener. Idempotent.
  void stop();

  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

private:
  struct impl;
  explicit http_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// The Connection header our answer must carry so that it tells the client
/// what cpprest's listener will do with the connection: "close" when it will
/// close it after the answer (the request asked for close, or HTTP/1.0 without
/// a Connection header), "keep-alive" for an HTTP/1.0 request that asked to
/// keep it, else "" (HTTP/1.1 persistent, no header needed).
std::string connection_header(int major, int minor, const std::optional<std::string>& request_connection);

/// Splits and decodes a raw query string ("a=1&b=x+y") as Python's parse_qsl does.
std::vector<std::pair<std::string, std::string>> parse_query(const std::string& raw);

/// Percent-decodes `text`; with `plus_is_space`, '+' becomes ' '.
std::string percent_decode(const std::string& text, bool plus_is_space);

} // namespace mistral::api

#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mistral::api {

/// An HTTP request as the controllers see it: no cpprest types beyond
/// api/http_server.cpp.
struct http_request {
  std::string method;                                     ///< "GET", "POST", ...
  std::string path;                                       ///< decoded, e.g. "/v2/workflows/wf1"
  std::vector<std::pair<std::string, std::string>> query; ///< decoded, in order
  std::map<std::string, std::string> headers;             ///< names lower-cased
  std::string body;

  /// The first value of query parameter `name`.
  std::optional<std::string> query_value(const std::string& name) const;
  /// The value of header `name` (any case).
  std::optional<std::string> header(const std::string& name) const;
  /// "http://host:port" as the client addressed us (Mistral's application_url).
  std::string host_url() const;
};

/// An HTTP response.
struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< extra headers
};

/// Delivers the response for one request; callable from any thread, once.
using responder = std::function<void(http_response)>;

/// The HTML body WebOb gives to a 404 (pecan's unknown route).
http_response not_found_html();

} // namespace mistral::api

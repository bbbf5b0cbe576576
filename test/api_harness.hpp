#pragma once

// Drives the v2 controllers in-process: a router over a fresh SQLite store
// in a temporary folder, with requests built as the HTTP layer builds them.

#include "api/api_context.hpp"
#include "api/http_types.hpp"
#include "api/router.hpp"
#include "common/json.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace mistral::test {

/// A request as the HTTP layer builds it; `path` may carry a query string.
api::http_request make_request(const std::string& method, const std::string& path, const std::string& body,
                               const std::string& content_type);

/// Dispatches `req` and waits for the reply, which some handlers send from
/// another thread; status -1 when none came within a minute.
api::http_response dispatch_and_wait(api::router& routes, const api::http_request& req);

class api_harness {
public:
  api_harness();
  ~api_harness();

  /// Sends one request; `path` may carry a query string.
  api::http_response call(const std::string& method, const std::string& path, const std::string& body = "",
                          const std::string& content_type = "application/json");
  /// Sends `value` as header `name` (lower case) with every later request.
  void set_header(const std::string& name, const std::string& value) { headers_[name] = value; }
  /// The body of a response parsed as JSON (null when it is not JSON).
  static json body_of(const api::http_response& r);

  api::router& routes() { return routes_; }
  std::shared_ptr<api::api_context> context() { return ctx_; }

private:
  std::filesystem::path dir_;
  std::shared_ptr<api::api_context> ctx_;
  api::router routes_;
  std::map<std::string, std::string> headers_;
};

} // namespace mistral::test

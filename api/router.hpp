#pragma once

#include "api/http_types.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mistral::api {

/// Values captured by `{name}` segments of a route pattern.
using route_params = std::map<std::string, std::string>;

/// Handles one request. It must call the responder exactly once, now or later.
using handler = std::function<void(const http_request&, const route_params&, responder)>;

/// Maps (method, path pattern) to handlers. Patterns are "/"-separated
/// literal segments or `{name}` captures; a trailing slash in the request
/// path is ignored, as pecan does.
class router {
public:
  /// Adds a route; later additions never shadow earlier ones.
  void add(std::string method, std::string pattern, handler h);

  /// Routes `req`: calls the matching handler, else answers 404 (no path
  /// matches) or 405 (the path matches under another method).
  void dispatch(const http_request& req, responder respond) const;

private:
  struct route {
    std::string method;
    std::vector<std::string> segments;
    handler h;
  };
  static std::vector<std::string> split(const std::string& path);
  static bool match(const route& r, const std::vector<std::string>& parts, route_params& out);

  std::vector<route> routes_;
};

} // namespace mistral::api

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

  /// Adds a route that dispatch_inline runs on the caller's (the HTTP
  /// listener's) thread instead of the HTTP actor's. Its handler must be
  /// thread-safe, quick, and never wait on anything but a store read: it
  /// holds up the listener meanwhile.
  void add_inline(std::string method, std::string pattern, handler h);

  /// Routes `req`: calls the matching handler, else answers 404 (no path
  /// matches) or 405 with an Allow header (the path matches under another
  /// method). The root controllers' index (/ and /v2/) answers any method.
  void dispatch(const http_request& req, responder respond) const;

  /// Routes `req` as dispatch does when the route dispatch would pick was
  /// added with add_inline (then `respond` is moved from) and returns true;
  /// otherwise does nothing and returns false.
  bool dispatch_inline(const http_request& req, responder& respond) const;

private:
  struct route {
    std::string method;
    std::vector<std::string> segments;
    handler h;
    bool inline_ok = false;
  };
  static std::vector<std::string> split(const std::string& path);
  static bool match(const route& r, const std::vector<std::string>& parts, route_params& out);
  /// The path of the pecan controller serving `r`: its segments up to the
  /// last literal one (/v2/executions and /v2/executions/{id} are one
  /// controller, /v2/executions/{id}/tasks another).
  static std::vector<std::string> controller_of(const route& r);
  /// A 405's Allow header: the methods of every route of `matched`'s
  /// controller, in pecan's (sorted) order.
  std::string allowed_methods(const route& matched) const;

  std::vector<route> routes_;
};

} // namespace mistral::api

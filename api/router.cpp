#include "api/router.hpp"

#include <set>

namespace mistral::api {

void router::add(std::string method, std::string pattern, handler h) {
  routes_.push_back(route{std::move(method), split(pattern), std::move(h)});
}

void router::add_inline(std::string method, std::string pattern, handler h) {
  routes_.push_back(route{std::move(method), split(pattern), std::move(h), true});
}

bool router::dispatch_inline(const http_request& req, responder& respond) const {
  auto parts = split(req.path);
  route_params params;
  for (const auto& r : routes_)
    if (r.method == req.method && match(r, parts, params)) {
      if (!r.inline_ok)
        return false;
      r.h(req, params, std::move(respond));
      return true;
    }
  return false;
}

std::vector<std::string> router::split(const std::string& path) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : path) {
    if (c == '/') {
      if (!current.empty())
        parts.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty())
    parts.push_back(std::move(current));
  return parts;
}

bool router::match(const route& r, const std::vector<std::string>& parts, route_params& out) {
  if (r.segments.size() != parts.size())
    return false;
  route_params captured;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = r.segments[i];
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}')
      captured[seg.substr(1, seg.size() - 2)] = parts[i];
    else if (seg != parts[i])
      return false;
  }
  out = std::move(captured);
  return true;
}

std::vector<std::string> router::controller_of(const route& r) {
  std::size_t literal = 0;
  for (std::size_t i = 0; i < r.segments.size(); ++i)
    if (!(r.segments[i].size() > 2 && r.segments[i].front() == '{'))
      literal = i + 1;
  return {r.segments.begin(), r.segments.begin() + static_cast<std::ptrdiff_t>(literal)};
}

std::string router::allowed_methods(const route& matched) const {
  const auto controller = controller_of(matched);
  std::set<std::string> methods;
  for (const auto& r : routes_)
    if (controller_of(r) == controller)
      methods.insert(r.method);
  std::string out;
  for (const auto& m : methods)
    out += (out.empty() ? "" : ", ") + m;
  return out;
}

void router::dispatch(const http_request& req, responder respond) const {
  auto parts = split(req.path);
  const route* known = nullptr;
  for (const auto& r : routes_) {
    route_params params;
    if (!match(r, parts, params))
      continue;
    if (!known)
      known = &r;
    if (r.method == req.method) {
      r.h(req, params, std::move(respond));
      return;
    }
  }
  // The index of the root controllers (/ and /v2/) answers every method as
  // GET does, and /v2 redirects them all to /v2/, but OPTIONS (an empty 200,
  // as on any path) and POST: pecan refuses to redirect a POST, with a 500;
  // a 405 says the same more plainly.
  const bool slash = !req.path.empty() && req.path.back() == '/';
  if ((parts.empty() || (parts.size() == 1 && parts[0] == "v2")) &&
      (slash || (req.method != "OPTIONS" && req.method != "POST"))) {
    http_request as_get = req;
    as_get.method = "GET";
    dispatch(as_get, std::move(respond));
    return;
  }
  if (req.method == "OPTIONS") {
    // Pecan answers OPTIONS on any other path with an empty 200.
    http_response r;
    r.content_type.clear();
    respond(std::move(r));
    return;
  }
  if (!known) {
    respond(not_found_html());
    return;
  }
  http_response r;
  r.status = 405;
  r.headers.emplace_back("Allow", allowed_methods(*known));
  r.content_type = "text/html; charset=UTF-8";
  r.body = "<html>\n <head>\n  <title>405 Method Not Allowed</title>\n </head>\n <body>\n"
           "  <h1>405 Method Not Allowed</h1>\n  The method " +
           req.method + " is not allowed for this resource. <br /><br />\n\n </body>\n</html>";
  respond(std::move(r));
}

} // namespace mistral::api

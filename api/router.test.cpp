#include "api/router.hpp"
#include "api/root_controller.hpp"

#include <doctest/doctest.h>

using namespace mistral::api;

namespace {

http_response call(const router& r, std::string method, std::string path,
                   std::string host = "127.0.0.1:8989") {
  http_request req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.headers["host"] = std::move(host);
  http_response out;
  out.status = -1;
  r.dispatch(req, [&](http_response resp) { out = std::move(resp); });
  return out;
}

router root_router() {
  router r;
  add_root_routes(r);
  return r;
}

} // namespace

TEST_CASE("GET / answers the versions document byte for byte") {
  auto resp = call(root_router(), "GET", "/");
  CHECK(resp.status == 200);
  CHECK(resp.content_type == "application/json");
  CHECK(resp.body == "{\"versions\": [{\"id\": \"v2.0\", \"status\": \"CURRENT\", \"links\": [{\"href\": "
                     "\"http://127.0.0.1:8989/v2\", \"target\": \"v2\", \"rel\": \"self\"}]}]}");
}

TEST_CASE("GET /v2/ answers the v2 root with the host the client used") {
  auto resp = call(root_router(), "GET", "/v2/", "localhost:1234");
  CHECK(resp.status == 200);
  CHECK(resp.body == "{\"uri\": \"http://localhost:1234/v2\"}");
}

TEST_CASE("GET /v2 redirects to /v2/") {
  auto resp = call(root_router(), "GET", "/v2");
  CHECK(resp.status == 302);
  REQUIRE(resp.headers.size() == 1);
  CHECK(resp.headers[0].first == "Location");
  CHECK(resp.headers[0].second == "http://127.0.0.1:8989/v2/");
  CHECK(resp.body.size() == 233); // the length of the reference body
}

TEST_CASE("unknown routes get the HTML 404 and known routes under another method a 405") {
  auto missing = call(root_router(), "GET", "/nope");
  CHECK(missing.status == 404);
  CHECK(missing.content_type == "text/html; charset=UTF-8");
  CHECK(missing.body.find("The resource could not be found.") != std::string::npos);
  router r;
  auto ok = [](const http_request&, const route_params&, responder respond) { respond(http_response{}); };
  r.add("GET", "/v2/executions", ok);
  r.add("POST", "/v2/executions", ok);
  r.add("GET", "/v2/executions/{id}", ok);
  r.add("PUT", "/v2/executions/{id}", ok);
  r.add("DELETE", "/v2/executions/{id}", ok);
  r.add("GET", "/v2/executions/{id}/tasks", ok);
  r.add("GET", "/v2/services", ok);
  auto allow = [](const http_response& resp) {
    for (const auto& [name, value] : resp.headers)
      if (name == "Allow")
        return value;
    return std::string("(none)");
  };
  // Pecan lists every method of the path's controller, sorted.
  auto wrong_method = call(r, "PATCH", "/v2/executions/abc");
  CHECK(wrong_method.status == 405);
  CHECK(allow(wrong_method) == "DELETE, GET, POST, PUT");
  // WebOb's page, as the reference sends it (two newlines: no detail).
  CHECK(wrong_method.body == "<html>\n <head>\n  <title>405 Method Not Allowed</title>\n </head>\n <body>\n"
                             "  <h1>405 Method Not Allowed</h1>\n  The method PATCH is not allowed for this "
                             "resource. <br /><br />\n\n </body>\n</html>");
  CHECK(allow(call(r, "DELETE", "/v2/executions")) == "DELETE, GET, POST, PUT");
  CHECK(allow(call(r, "DELETE", "/v2/executions/abc/tasks")) == "GET");
  CHECK(allow(call(r, "POST", "/v2/services")) == "GET");
}

TEST_CASE("the root controllers answer every method as GET, but OPTIONS and POST on /v2") {
  auto get = call(root_router(), "GET", "/");
  for (const char* method : {"DELETE", "PATCH", "POST", "PUT", "HEAD", "OPTIONS"}) {
    auto resp = call(root_router(), method, "/");
    CHECK(resp.status == 200);
    CHECK(resp.body == get.body);
  }
  CHECK(call(root_router(), "DELETE", "/v2/").body == call(root_router(), "GET", "/v2/").body);
  CHECK(call(root_router(), "PUT", "/v2").status == 302);
  CHECK(call(root_router(), "OPTIONS", "/v2").body.empty());
  CHECK(call(root_router(), "POST", "/v2").status == 405);
}

TEST_CASE("route captures are passed to the handler") {
  router r;
  std::string seen;
  r.add("GET", "/v2/workflows/{id}", [&](const http_request&, const route_params& p, responder respond) {
    seen = p.at("id");
    respond(http_response{});
  });
  CHECK(call(r, "GET", "/v2/workflows/wf1/").status == 200);
  CHECK(seen == "wf1");
  CHECK(call(r, "GET", "/v2/workflows").status == 404);
}

TEST_CASE("OPTIONS answers an empty 200 on any path, and the root's document on /, as pecan does") {
  for (const char* path : {"/v2", "/v2/workflows", "/no/such/route"}) {
    auto r = call(root_router(), "OPTIONS", path);
    CHECK(r.status == 200);
    CHECK(r.body.empty());
    CHECK(r.content_type.empty());
  }
  auto root = call(root_router(), "OPTIONS", "/");
  CHECK(root.status == 200);
  CHECK(root.body == call(root_router(), "GET", "/").body);
}

TEST_CASE("only a request whose route was added inline is dispatched inline, as dispatch would route it") {
  router r;
  std::vector<std::string> ran;
  auto named = [&](std::string name) {
    return [&ran, name](const http_request&, const route_params& p, responder respond) {
      ran.push_back(name + (p.count("id") ? ":" + p.at("id") : ""));
      respond(http_response{});
    };
  };
  r.add("GET", "/v2/things/special", named("special"));
  r.add_inline("GET", "/v2/things/{id}", named("one"));
  r.add("PUT", "/v2/things/{id}", named("put"));
  r.add_inline("POST", "/v2/things", named("create"));
  auto inline_call = [&](std::string method, std::string path) {
    http_request req;
    req.method = std::move(method);
    req.path = std::move(path);
    bool answered = false;
    responder respond = [&](http_response) { answered = true; };
    bool handled = r.dispatch_inline(req, respond);
    CHECK(handled == answered);
    return handled;
  };
  CHECK(inline_call("GET", "/v2/things/7"));
  CHECK(inline_call("POST", "/v2/things/"));
  // An earlier route that is not inline wins, as in dispatch.
  CHECK_FALSE(inline_call("GET", "/v2/things/special"));
  // Other methods, unknown paths, 404s, 405s and OPTIONS stay the actor's.
  CHECK_FALSE(inline_call("PUT", "/v2/things/7"));
  CHECK_FALSE(inline_call("DELETE", "/v2/things/7"));
  CHECK_FALSE(inline_call("OPTIONS", "/v2/things/7"));
  CHECK_FALSE(inline_call("GET", "/v2/nothing"));
  CHECK(ran == std::vector<std::string>{"one:7", "create"});
  // dispatch routes inline routes too.
  http_request req;
  req.method = "GET";
  req.path = "/v2/things/8";
  r.dispatch(req, [](http_response) {});
  CHECK(ran.back() == "one:8");
}

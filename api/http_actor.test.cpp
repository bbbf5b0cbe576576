#include "api/http_actor.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace mistral::api;

TEST_CASE("a handler run inline that throws costs its request a 500, as in the HTTP actor") {
  router r;
  r.add_inline("GET", "/boom",
               [](const http_request&, const route_params&, responder) { throw std::runtime_error("bug"); });
  r.add("GET", "/later", [](const http_request&, const route_params&, responder respond) { respond({}); });
  http_request req;
  req.method = "GET";
  req.path = "/boom";
  http_response got;
  got.status = -1;
  responder respond = [&](http_response resp) { got = std::move(resp); };
  CHECK(dispatch_inline(r, req, respond));
  CHECK(got.status == 500);
  CHECK(got.body == R"({"faultcode": "Server", "faultstring": "Internal server error", "debuginfo": null})");

  got.status = -1;
  req.path = "/later";
  responder again = [&](http_response resp) { got = std::move(resp); };
  CHECK_FALSE(dispatch_inline(r, req, again));
  CHECK(got.status == -1);
  CHECK(again); // still there for the HTTP actor
}

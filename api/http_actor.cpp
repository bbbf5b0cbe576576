#include "api/http_actor.hpp"

#include "common/log.hpp"

#include <exception>

namespace mistral::api {

namespace {

http_response internal_error(const std::string& what) {
  http_response r;
  r.status = 500;
  r.body =
    R"({"faultcode": "Server", "faultstring": )" + std::string("\"") + what + "\", \"debuginfo\": null}";
  return r;
}

void handler_failed(const std::exception& e, const responder& respond) {
  // A handler bug must cost one request, never the server.
  log::error("api", std::string("handler failed: ") + e.what());
  respond(internal_error("Internal server error"));
}

caf::behavior http_actor(caf::event_based_actor*, std::shared_ptr<const router> routes) {
  return {
    [routes](http_exchange& ex) {
      try {
        routes->dispatch(*ex.request, ex.respond);
      } catch (const std::exception& e) {
        handler_failed(e, ex.respond);
      }
    },
  };
}

} // namespace

caf::actor spawn_http_actor(caf::actor_system& sys, std::shared_ptr<const router> routes) {
  return sys.spawn(http_actor, std::move(routes));
}

bool dispatch_inline(const router& routes, const http_request& req, responder& respond) {
  // A handler that threw after moving the responder out has it in its
  // frame, gone now: keep a copy to answer with.
  responder keep = respond;
  try {
    return routes.dispatch_inline(req, respond);
  } catch (const std::exception& e) {
    handler_failed(e, keep);
    return true;
  }
}

} // namespace mistral::api

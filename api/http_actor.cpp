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

caf::behavior http_actor(caf::event_based_actor*, std::shared_ptr<const router> routes) {
  return {
    [routes](http_exchange& ex) {
      try {
        routes->dispatch(*ex.request, ex.respond);
      } catch (const std::exception& e) {
        // A handler bug must cost one request, never the server.
        log::error("api", std::string("handler failed: ") + e.what());
        ex.respond(internal_error("Internal server error"));
      }
    },
  };
}

} // namespace

caf::actor spawn_http_actor(caf::actor_system& sys, std::shared_ptr<const router> routes) {
  return sys.spawn(http_actor, std::move(routes));
}

} // namespace mistral::api

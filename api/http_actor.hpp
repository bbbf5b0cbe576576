#pragma once

#include "api/http_types.hpp"
#include "api/router.hpp"

#include <caf/all.hpp>

#include <memory>

namespace mistral::api {

/// One HTTP request in flight, handed from a transport thread to the HTTP
/// actor. It holds a callback, so it never leaves the process.
struct http_exchange {
  std::shared_ptr<http_request> request;
  responder respond;
};

/// Spawns the HTTP actor: the one actor that fronts the v2 API. It routes each
/// exchange through `routes`; handlers answer now or later through the responder.
caf::actor spawn_http_actor(caf::actor_system& sys, std::shared_ptr<const router> routes);

/// Runs `req` here, on the calling (listener) thread, when its route was
/// added with router::add_inline, answering a handler's exception as the
/// HTTP actor does; false when it is the HTTP actor's to route.
bool dispatch_inline(const router& routes, const http_request& req, responder& respond);

} // namespace mistral::api

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mistral::api::http_exchange)

#pragma once

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace mistral::api {

/// /v2/event_triggers: create, list, get, update (name, input, params,
/// scope) and delete, in WSME's shapes. This server has no event engine
/// (no message bus to listen on), so event triggers are stored but never fire.
void add_event_trigger_routes(router& r, std::shared_ptr<api_context> ctx);

} // namespace mistral::api

#pragma once

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace mistral::api {

/// /v2/environments: list, get, create, update and delete, in WSME's shapes.
void add_environment_routes(router& r, std::shared_ptr<api_context> ctx);

} // namespace mistral::api

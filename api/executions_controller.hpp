#pragma once

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace mistral::api {

/// /v2/executions, /v2/tasks and /v2/action_executions: create, read,
/// control (pause, resume, stop, rerun), complete async actions, delete.
void add_execution_routes(router& r, std::shared_ptr<api_context> ctx);

} // namespace mistral::api

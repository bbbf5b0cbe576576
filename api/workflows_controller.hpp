#pragma once

#include "api/api_context.hpp"
#include "api/router.hpp"

#include <memory>

namespace mistral::api {

/// /v2/workflows: create, update, get, delete, list and validate workflow
/// definitions, in the shapes of Mistral's WorkflowsController (pecan-style
/// bodies for POST/PUT, WSME-style for the rest).
void add_workflow_routes(router& r, std::shared_ptr<api_context> ctx);

} // namespace mistral::api

#pragma once

#include "api/api_context.hpp"
#include "api/router.hpp"

#include <memory>

namespace mistral::api {

/// /v2/actions: the std action catalog plus ad-hoc actions (create, update,
/// get, delete, list, validate), in the shapes of Mistral's ActionsController.
/// Also makes sure the public ad-hoc action std.wait_ssh exists, as
/// `mistral-db-manage populate` does.
void add_action_routes(router& r, std::shared_ptr<api_context> ctx);

} // namespace mistral::api

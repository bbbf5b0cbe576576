#pragma once

#include "api/api_context.hpp"
#include "api/router.hpp"

#include <optional>
#include <string>

namespace mistral::api {

/// /v2/cron_triggers: create (with Mistral's schedule validation), list,
/// get by name or id, delete. The scheduler that fires them is
/// actors/cron (an engine-role actor).
void add_cron_trigger_routes(router& r, std::shared_ptr<api_context> ctx);

/// Mistral's refusal to delete a workflow that triggers still use:
/// "Can't delete workflow that has cron triggers associated. ..." (cron
/// triggers first, then event triggers), or nullopt when none does.
std::optional<error> workflow_delete_blocked(persistence::database& db, const std::string& workflow_id,
                                             const std::string& identifier, const std::string& ns);

} // namespace mistral::api

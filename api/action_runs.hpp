#pragma once

// Actions run outside any workflow: POST /v2/action_executions (sync or
// async, saved or not, std or ad-hoc) and the completion of such a saved
// run by PUT /v2/action_executions/{id}.

#include "api/api_context.hpp"
#include "api/router.hpp"
#include "persistence/table.hpp"

#include <memory>

namespace mistral::api {

/// POST /v2/action_executions, as Mistral's engine start_action: a sync run
/// without save_result answers the unsaved shape (id null); save_result
/// without run_sync, or an async action, answers the RUNNING saved row and
/// runs in the background; run_sync with save_result answers the saved,
/// completed row.
void run_action(std::shared_ptr<api_context> ctx, const http_request& req, responder respond);

/// Completes a saved ad-hoc run (a row with no task) with `state` (SUCCESS,
/// ERROR or CANCELLED) and the output the PUT carried; the reply is the row.
http_response complete_standalone_action(api_context& ctx, const persistence::record& row,
                                         const std::string& state, const json& output);

} // namespace mistral::api

#pragma once

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace mistral::api {

/// /v2/code_sources and /v2/dynamic_actions (policy admin_only: without
/// admin rights every call is 403 "Operation forbidden (insufficient
/// permissions)").
///
/// What a dynamic action means here. In Mistral a code source is a Python
/// module and a dynamic action binds an action name to a class of that
/// module, which Mistral imports and runs. This server cannot run Python, so
/// code sources are kept as text (versioned, as Mistral does) and a dynamic
/// action may only bind to a class this server implements: the std action
/// classes, by short name ("EchoAction") or by Mistral's full path
/// ("mistral.actions.std_actions.EchoAction"). Any other class name is
/// refused with 400 when the action is created or updated, rather than
/// failing later when it is used.
void add_code_source_routes(router& r, std::shared_ptr<api_context> ctx);

} // namespace mistral::api

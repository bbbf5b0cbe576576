#pragma once

#include "actors/action/catalog.hpp"
#include "api/api_context.hpp"
#include "api/router.hpp"

#include <optional>
#include <string>
#include <vector>

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

/// A stored dynamic action and the std action its class designates.
struct bound_dynamic_action {
  persistence::record row;
  const action::std_action* bound = nullptr;
};

/// The stored dynamic actions that bind to a std action class (all, or the
/// one called `name` in namespace `ns`), for the action listing.
std::vector<bound_dynamic_action> bound_dynamic_actions(persistence::database& db,
                                                        const std::optional<std::string>& name = std::nullopt,
                                                        const std::string& ns = "");

/// GET /v2/actions' entry of a dynamic action: the shape of a Python action
/// (id = name, the class's input and description) with the dynamic action's
/// name, scope, project and namespace.
json dynamic_action_listing_resource(const bound_dynamic_action& a);

} // namespace mistral::api

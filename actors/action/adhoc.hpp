#pragma once

// Ad-hoc actions outside a workflow (POST /v2/action_executions): the stored
// spec dict as a dsl::action_spec, and an action name resolved down to the
// std action that finally runs. Pure: definitions come through a lookup.

#include "common/error.hpp"
#include "common/json.hpp"
#include "dsl/spec.hpp"

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mistral::action {

/// An ad-hoc action spec from its stored spec dict, or nullopt when the dict
/// has no readable `base`.
std::optional<dsl::action_spec> adhoc_from_raw(const std::string& name, const json& raw);

/// Finds the ad-hoc action `name` (namespace first, then the default one).
using adhoc_lookup = std::function<std::optional<dsl::action_spec>(const std::string& name)>;

/// An action name resolved to the std action it runs.
struct standalone_action {
  std::string base;                    ///< the std action that runs
  json input = json::object();         ///< the std action's input
  std::vector<json> output_transforms; ///< ad-hoc `output` clauses, innermost first
  json named_input = json::object();   ///< the named action's input, its defaults filled in
};

/// Why an action cannot run: the action is unknown, its input does not fit
/// ("Invalid input [...]") or a base-input expression failed.
struct resolve_failure {
  std::string message;
};

/// Resolves `name` with `input` as Mistral's build_action_by_name and
/// check_parameters do for a run outside any workflow: input defaults,
/// the parameter check, then base-input evaluated over the input.
std::variant<standalone_action, resolve_failure>
resolve_standalone(const std::string& name, json input, const std::string& ns, const adhoc_lookup& lookup);

/// Applies ad-hoc `output` clauses to a successful result.
result<json> transform_output(json result, const std::vector<json>& transforms);

} // namespace mistral::action

#pragma once

// The std action catalog: Mistral 15's Python actions (mistral.actions
// entry point, mistral/actions/std_actions.py) as data, with the parameter
// check Mistral runs before an action is instantiated. Pure: no CAF here, so
// the API lists the catalog and the executor checks inputs with one source.

#include "common/json.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mistral::action {

/// One std action as GET /v2/actions shows it.
struct std_action {
  std::string name;        ///< "std.echo"
  std::string class_name;  ///< "mistral.actions.std_actions.EchoAction" (Mistral's action_class_name)
  std::string input;       ///< the parameter spec string: "output, delay=0"
  bool is_sync = true;     ///< false for std.async_noop and std.mistral_http
  std::string description; ///< the class docstring, cleaned as inspect.getdoc does
};

/// Every std action, sorted by name.
const std::vector<std_action>& std_actions();

/// The std action called `name`, or null.
const std_action* find_std_action(std::string_view name);

/// The YAML of the ad-hoc action std.wait_ssh (mistral/resources/actions/
/// wait_ssh.yaml), which Mistral loads as a public ad-hoc action on populate.
const std::string& wait_ssh_definition();

/// One parameter of a parameter spec string.
struct param_spec {
  std::string name;
  std::optional<json> default_value; ///< nullopt: required
};

/// Parses a spec string the way mistral_lib's get_dict_from_string does:
/// "a, b=1, c=\"x\"" gives a (required), b (1) and c ("x").
std::vector<param_spec> parse_param_spec(std::string_view spec);

/// Mistral's check_parameters: nullopt when `input` (an object, or null)
/// fits `spec`, else "Invalid input [name=<name>, class=<class>,
/// missing=['a'], unexpected=['b']]". A spec holding "**" accepts anything.
std::optional<std::string> check_input(std::string_view name, std::string_view class_name,
                                       std::string_view spec, const json& input);

/// check_input for a catalog entry.
std::optional<std::string> check_input(const std_action& action, const json& input);

} // namespace mistral::action

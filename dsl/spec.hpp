#pragma once

// Typed specifications of the Workflow Language v2 (mistral/lang/v2/*):
// what validate_workflows / validate_workbook / validate_actions return.
// Values that may be expressions evaluated at run time stay `json` (an
// integer, a boolean or an expression string); names and structure are typed.

#include "common/json.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mistral::dsl {

/// Engine commands usable as on-* targets (ENGINE_COMMANDS).
inline constexpr const char* engine_commands[] = {"noop", "fail", "succeed", "pause"};

/// True for "noop", "fail", "succeed" and "pause".
bool is_engine_command(std::string_view name) noexcept;

enum class workflow_type { direct, reverse };

/// "direct" or "reverse".
const char* to_string(workflow_type t) noexcept;

/// One input parameter of a workflow or ad-hoc action: `- a` (required) or
/// `- a: default` (optional).
struct input_param {
  std::string name;
  std::optional<json> default_value; ///< nullopt: required (Mistral's NotDefined)
};

/// One transition target of an on-* clause, as Mistral's prepare_next_clause
/// gives it: (task or engine command, condition, inline params).
struct transition {
  std::string target;           ///< task name or engine command ("fail", ...)
  std::string condition;        ///< "" when unconditional, else an expression
  json params = json::object(); ///< inline params, e.g. {"msg": "boom"} for fail
};

/// `publish:` inside an advanced on-* clause (PublishSpec).
struct publish_spec {
  json branch; ///< object or null
  json global; ///< object or null
  json atomic; ///< object or null (parsed, never applied by Mistral)
};

/// One on-success / on-error / on-complete clause (OnClauseSpec).
struct on_clause_spec {
  std::optional<publish_spec> publish;
  std::vector<transition> next;
};

/// The retry policy, after the one-line form "count=3 delay=5" is expanded.
struct retry_spec {
  json count;       ///< integer >= 0 or expression
  json delay;       ///< integer >= 0 or expression
  json break_on;    ///< null or expression
  json continue_on; ///< null or expression
};

/// Task policies (PoliciesSpec). `given` holds the keys that were set (a task
/// key overrides the same task-defaults key), the fields hold Mistral's
/// defaults for the others.
struct policies_spec {
  json given = json::object();
  std::optional<retry_spec> retry;
  json wait_before = 0;
  json wait_after = 0;
  json timeout = 0;
  json pause_before = false;
  json concurrency = 0;
  json fail_on = false;
};

/// `task-defaults:` of a workflow (TaskDefaultsSpec).
struct task_defaults_spec {
  policies_spec policies;
  std::optional<on_clause_spec> on_complete;
  std::optional<on_clause_spec> on_success;
  std::optional<on_clause_spec> on_error;
  json safe_rerun;                    ///< null when not given
  std::vector<std::string> requires_; ///< reverse workflows only
};

/// One with-items variable: `x in <% $.xs %>` or `x in [1, 2]`.
struct with_items_spec {
  std::string var;
  json collection; ///< a JSON list, or an expression string
};

/// A task (DirectWorkflowTaskSpec / ReverseWorkflowTaskSpec).
struct task_spec {
  std::string name;
  std::string description;
  workflow_type type = workflow_type::direct;
  std::vector<std::string> tags;
  std::string action;          ///< command part of `action:`; "std.noop" when neither is given
  std::string workflow;        ///< command part of `workflow:`; "" for action tasks
  json input = json::object(); ///< dict (merged with inline params) or expression string
  std::vector<with_items_spec> with_items;
  json publish = json::object();
  json publish_on_error = json::object();
  policies_spec policies;
  json target; ///< null when not given
  json keep_result = true;
  json safe_rerun; ///< null when not given (task-defaults, then false)
  // direct workflows
  json join; ///< null, "all", "one" or an integer
  std::optional<on_clause_spec> on_complete;
  std::optional<on_clause_spec> on_success;
  std::optional<on_clause_spec> on_error;
  // reverse workflows
  std::vector<std::string> requires_;

  /// "WORKFLOW" for sub-workflow tasks, else "ACTION" (Mistral's task type).
  const char* task_type() const noexcept { return workflow.empty() ? "ACTION" : "WORKFLOW"; }
};

/// A workflow (DirectWorkflowSpec / ReverseWorkflowSpec).
struct workflow_spec {
  std::string name;
  std::string description;
  workflow_type type = workflow_type::direct;
  std::vector<std::string> tags;
  std::vector<input_param> input;
  json output = json::object();
  json output_on_error = json::object();
  json vars = json::object();
  std::optional<task_defaults_spec> task_defaults;
  std::vector<task_spec> tasks; ///< in definition order
  json raw;                     ///< Mistral's spec dict (to_dict()), as stored in `spec`

  /// The task named `name`, or null.
  const task_spec* find_task(std::string_view name) const noexcept;
};

/// An ad-hoc action (ActionSpec).
struct action_spec {
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::string base;                 ///< command part of `base:`
  json base_input = json::object(); ///< merged with the inline params of `base:`
  std::vector<input_param> input;
  json output; ///< null when not given
  json raw;
};

/// A workbook (WorkbookSpec). Item names are as written (without "<wb>.").
struct workbook_spec {
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::vector<action_spec> actions;
  std::vector<workflow_spec> workflows;
  json raw;
  /// False when `version` is a number (2 or 2.0): Mistral then returns no
  /// spec and validates nothing, so the document is accepted as it is.
  bool validated = true;
};

/// The document of POST /v2/workflows: one or more workflows.
struct workflow_list_spec {
  std::vector<workflow_spec> workflows;
  json raw;
};

/// The document of POST /v2/actions: one or more ad-hoc actions.
struct action_list_spec {
  std::vector<action_spec> actions;
  json raw;
};

} // namespace mistral::dsl

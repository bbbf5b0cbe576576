#pragma once

// The three entry points the API calls for POST/PUT and .../validate of
// /v2/workflows, /v2/workbooks and /v2/actions. Each runs Mistral's pipeline
// in Mistral's order (YAML, version, jsonschema, expressions, semantics), so
// the first error found is the one Mistral reports.
//
// Error texts: the first line is Mistral's faultstring first line exactly
// ("Invalid DSL: 'delay' is a required property", "Task 'x' not found.",
// "Definition could not be parsed: ..."). Where Mistral would append a schema
// dump we append one line pointing at the YAML instead:
// "  at line 7, column 7: wf.tasks.task1.retry". YAML errors keep PyYAML's
// own position lines. `error::code` is always errc::invalid_input (HTTP 400)
// and `error::kind` is Mistral's exception class name.

#include "common/error.hpp"
#include "dsl/spec.hpp"

#include <optional>
#include <string_view>

namespace mistral::dsl {

/// POST /v2/workflows: `version` plus one or more workflows.
result<workflow_list_spec> validate_workflows(std::string_view text);

/// POST /v2/workbooks: one workbook.
result<workbook_spec> validate_workbook(std::string_view text);

/// POST /v2/actions: `version` plus one or more ad-hoc actions.
result<action_list_spec> validate_actions(std::string_view text);

/// Mistral's engine check of a workflow's input at execution start
/// (engine/utils.py::validate_input): nullopt when `actual` (an object or
/// null) gives every required input and nothing unknown, else an
/// InputException with "Invalid input [name=wf, class=DirectWorkflowSpec,
/// missing=['a'], unexpected=['x']]".
std::optional<error> check_workflow_input(const workflow_spec& spec, const json& actual);

/// The input a workflow starts with: `actual` (its order) plus the defaults
/// of the optional inputs that were not given, appended in spec order.
json input_with_defaults(const workflow_spec& spec, const json& actual);

/// Parses one stored workflow spec dict (`workflow_spec::raw`, as kept in the
/// database) back into a typed spec, without validation.
result<workflow_spec> workflow_from_raw(const json& raw);

/// workflow_from_raw, shared: specs are kept by their text, so every
/// execution of one definition reuses one parsed spec. Thread-safe.
result<std::shared_ptr<const workflow_spec>> shared_workflow_from_raw(const json& raw);

} // namespace mistral::dsl

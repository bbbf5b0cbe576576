#pragma once

// What the definition controllers (workflows, workbooks, actions) share:
// pecan's content negotiation, the scope and validation query flags, the
// param-spec strings Mistral derives from a spec's `input`, and the way a
// workbook's text is cut into the texts of its items.

#include "api/api_context.hpp"
#include "api/http_types.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "persistence/table.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mistral::api {

/// True when the client's Accept header rules out text/plain: pecan then
/// answers a definition POST/PUT (exposed as text/plain) with 406.
bool refuses_text_plain(const http_request& req);

/// Pecan's 406 for a JSON Accept: {"code": 406, "title": "Not Acceptable",
/// "description": null}; an empty 500 for other types, as pecan gives.
http_response not_acceptable(const http_request& req);

/// 204 with no body (WSME's DELETE).
http_response no_content();

/// The query value of `name`, or `fallback` when it is absent.
std::string query_or(const http_request& req, const std::string& name, const std::string& fallback = "");

/// Whether a definition must be validated: [api] validation_mode mandatory
/// (the default) always, disabled never, enabled unless ?skip_validation.
bool validation_wanted(const api_context& ctx, const http_request& req);

/// The `scope` query value checked as ScopedResource.validate_scope and the
/// publicize policy do: 400 "Scope must be one of the following: ..." or
/// 403 for public without admin rights.
result<std::string> requested_scope(const http_request& req);

/// Workflow.input: the spec's input list as "a, b=\"str(default)\"".
std::string workflow_input_text(const json& input_list);

/// Ad-hoc action input: "a, b=<json.dumps(default)>", or null when empty.
json action_input_text(const json& input_list);

/// Workflow.interface: {"input": <spec input list>, "output": [output keys]}.
json workflow_interface(const json& spec);

/// spec_parser._parse_def_from_wb: the text of item `item` under `section`
/// ("workflows:" or "actions:") of a workbook definition.
std::string cut_workbook_item(const std::string& wb_definition, const std::string& section,
                              const std::string& item);

/// True when some column of `changes` holds another value than in `row`
/// (SQLAlchemy only bumps updated_at when a column really changes).
bool changes_row(const persistence::record& row, const persistence::record& changes);

/// A parse_listing error as WSME answers it; an unknown sort key is the
/// database layer's 500 "Sort key supplied is invalid: x" upstream.
http_response listing_fault(const error& e);

/// A DSL error's text as Mistral gives it. The parser points at the YAML
/// with a last line "  at line N, column M: path"; Mistral's own text has that
/// line only where it dumps a schema ("Invalid DSL: ..."), so elsewhere it
/// is cut to keep messages such as "Task 'x' not found." exact.
std::string dsl_message(const error& e);

/// The DSL error as a definition endpoint's 400 body.
http_response dsl_fault(const error& e);

/// WSME's types.uuid check (Python's uuid.UUID()): 32 hex digits, dashes,
/// braces and a "urn:uuid:" prefix allowed.
bool uuid_like(const std::string& text);

/// WSME's 400 for a `marker` query parameter that is not a UUID, or nullopt.
std::optional<http_response> invalid_marker(const http_request& req);

/// A text field as a JSON value, null when the column is null.
json text_or_null(const json& v);

} // namespace mistral::api

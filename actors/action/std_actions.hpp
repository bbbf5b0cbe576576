#pragma once

// Mistral's standard actions (mistral/actions/std_actions.py) as plain
// functions: no CAF, no store. The executor actor runs them on worker
// threads; they may block (sleep, network).

#include "common/json.hpp"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

namespace mistral::action {

/// What Mistral's ActionContext tells an action about where it runs.
struct action_context {
  std::string workflow_execution_id;
  std::string task_execution_id;
  std::string workflow_name;
  std::string action_execution_id;
  std::string callback_url; ///< "<api>/v2/action_executions/<id>", for std.mistral_http
};

/// An action's outcome, as mistral_lib's Result: data on success, error
/// data on failure, or cancelled.
struct action_result {
  enum class kind { success, error, cancelled };
  kind outcome = kind::success;
  json data;  ///< the result on success
  json error; ///< the error data on failure (often a string)

  static action_result ok(json d) { return {kind::success, std::move(d), nullptr}; }
  static action_result failed(json e) { return {kind::error, nullptr, std::move(e)}; }
};

/// Running an action either finishes now or leaves it running until
/// PUT /v2/action_executions/{id} completes it (std.async_noop, std.mistral_http).
struct action_run {
  bool async = false;
  action_result result; ///< meaningful when !async
};

/// True when `name` is a std action this module runs.
bool is_std_action(const std::string& name);

/// True for actions that do not complete on return (std.async_noop, std.mistral_http).
bool is_async_action(const std::string& name);

/// True for actions that return at once with no effect outside their
/// result (std.noop, std.fail, std.test_dict, std.echo without delay):
/// running one costs less than a message to another thread.
bool is_instant_action(const std::string& name, const json& input);

/// Runs std action `name` with its (already checked) input. Exceptions and
/// failures become error results with Mistral's texts, e.g.
/// "The action raised an exception [action=..., action_ex_id=..., msg='...']"
/// where Mistral wraps them that way. `cancel` is polled by long actions.
action_run run_std_action(const std::string& name, const json& input, const action_context& ctx,
                          const std::atomic<bool>* cancel = nullptr);

} // namespace mistral::action

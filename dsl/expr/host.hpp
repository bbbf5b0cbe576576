#pragma once

#include "common/error.hpp"
#include "common/json.hpp"

#include <optional>
#include <string>

namespace mistral::expr {

/// Filters of Mistral's tasks() function.
struct tasks_query {
  std::optional<std::string> workflow_execution_id; ///< default: the current execution
  bool recursive = false;
  std::optional<std::string> state;
  bool flat = false;
};

/// Filters of Mistral's executions() function.
struct executions_query {
  std::optional<std::string> id, root_execution_id, state, from_time, to_time;
};

/// What the engine offers to Mistral's DB-backed expression functions
/// (mistral/expressions/std_functions.py). The data context still carries
/// `__env`, `__execution` and `__task_execution` as Mistral's does; the host
/// answers what needs the store. Implemented by the engine.
class host {
public:
  virtual ~host() = default;

  /// task(name): {id,name,spec,state,state_info,result,published,type,
  /// workflow_execution_id,created_at,updated_at}; no name = the current task.
  virtual result<json> task(const std::optional<std::string>& name) const = 0;

  /// tasks(...): a list of the same dicts.
  virtual result<json> tasks(const tasks_query& q) const = 0;

  /// execution(): {id,name,spec,input,params,created_at,updated_at,root_execution_id}.
  virtual result<json> execution() const = 0;

  /// executions(...): a list of execution dicts.
  virtual result<json> executions(const executions_query& q) const = 0;

  /// global(name): the workflow execution context's variable, or null.
  virtual result<json> global(const std::string& name) const = 0;
};

} // namespace mistral::expr

#pragma once

// Mistral's own expression functions (mistral/expressions/std_functions.py),
// shared by YAQL and Jinja. Each takes the evaluation environment so it can
// read `__env`, `__execution` and `__task_execution` from the data and ask
// the engine's host for what needs the store.

#include "dsl/expr/expression.hpp"

namespace mistral::expr::fn {

result<json> env(const eval_env& e);
result<json> execution(const eval_env& e);
result<json> executions(const eval_env& e, const executions_query& q);
result<json> task(const eval_env& e, const std::optional<std::string>& name);
result<json> tasks(const eval_env& e, const tasks_query& q);
result<json> global(const eval_env& e, const std::string& name);
std::string uuid();

/// json.dumps(data, indent=4) as Python prints it (", " / ": " separators,
/// ensure_ascii escapes, float repr).
std::string json_dump(const json& data);
/// Mistral's deprecated json_pp: json_dump with "\\n" unescaped.
std::string json_pp(const json& data);
result<json> json_parse(const std::string& text);
/// yaml.safe_dump(data, default_flow_style=False) as PyYAML prints it.
std::string yaml_dump(const json& data);
result<json> yaml_parse(const std::string& text);

} // namespace mistral::expr::fn

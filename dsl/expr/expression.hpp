#pragma once

// The public face of the expression module: Mistral's `evaluate`,
// `evaluate_recursively` and `validate` (mistral/expressions/__init__.py) over
// YAQL (`<% %>`) and Jinja (`{{ }}`, `{% %}`).

#include "common/error.hpp"
#include "common/json.hpp"
#include "dsl/expr/data_view.hpp"
#include "dsl/expr/host.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mistral::expr {

/// Evaluation limits, the equivalents of `[yaql] limit_iterators` and
/// `memory_quota`. A limit < 0 means the built-in safety cap, never "unbounded":
/// a runaway expression must end in an error, not an out-of-memory kill.
struct limits {
  std::int64_t max_iterations = -1; ///< items any one iteration may produce
  std::int64_t memory_quota = -1;   ///< bytes a single result may occupy
};

/// What an evaluation reads: `$` / `_` (the data view), the engine's host
/// for task(), execution() and global(), and the limits.
struct eval_env {
  data_view data;
  const host* engine = nullptr; ///< null: task()/execution()/global() fail cleanly
  limits lim{};
};

/// Which language a string is written in, by Mistral's dispatch rule: a string
/// with `{{ }}` or `{% %}` anywhere is Jinja; else one with `<% %>` is YAQL.
enum class language { none, yaql, jinja };
language detect(std::string_view text) noexcept;

/// True when `text` contains an expression of either language.
bool has_expression(std::string_view text) noexcept;

/// Mistral's evaluate(): a string that is exactly one expression yields its
/// native value; text around expressions yields a string (each expression
/// replaced by Python's str() of its value); a string with no expression is
/// returned unchanged. Errors carry Mistral's class name in `error::kind`
/// (YaqlEvaluationException, JinjaEvaluationException) and a message that
/// shows the expression and the position.
result<json> evaluate(std::string_view text, const eval_env& env);

/// Mistral's evaluate_recursively(): walks objects and arrays and evaluates
/// every string; other values pass through.
result<json> evaluate_recursively(const json& value, const eval_env& env);

/// Mistral's validate(): the grammar check run when a definition is uploaded.
/// nullopt when valid; else an error whose kind is YaqlGrammarException,
/// JinjaGrammarException or ExpressionGrammarException (languages mixed).
std::optional<error> validate(std::string_view text);

} // namespace mistral::expr

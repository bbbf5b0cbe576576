#pragma once

#include "dsl/expr/expression.hpp"

namespace mistral::expr::yaql {

/// Mistral's InlineYAQLEvaluator.evaluate over a whole string holding `<% %>`:
/// exactly one expression gives its native value, otherwise a string with
/// each `<% %>` replaced by Python's str() of its value.
result<json> evaluate(std::string_view text, const eval_env& env);

/// Evaluates a bare YAQL expression (no delimiters), e.g. "$.x + 1".
result<json> evaluate_bare(std::string_view expression, const eval_env& env);

/// InlineYAQLEvaluator.validate: nullopt, or a YaqlGrammarException error.
std::optional<error> validate(std::string_view text);

} // namespace mistral::expr::yaql

#pragma once

#include "dsl/expr/expression.hpp"

namespace mistral::expr::jinja {

/// Mistral's InlineJinjaEvaluator.evaluate over a whole string: a string that
/// is exactly one `{{ }}` gives the native value, otherwise the rendered
/// template text (`{% if/for/set %}` blocks, trim_blocks, lstrip_blocks).
result<json> evaluate(std::string_view text, const eval_env& env);

/// InlineJinjaEvaluator.validate: nullopt, or a JinjaGrammarException error.
std::optional<error> validate(std::string_view text);

} // namespace mistral::expr::jinja

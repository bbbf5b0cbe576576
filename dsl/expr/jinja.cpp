#include "dsl/expr/jinja.hpp"

namespace mistral::expr::jinja {

// Placeholder so mistral_expr links while the real engine is written.
result<json> evaluate(std::string_view text, const eval_env&) {
  return error{errc::invalid_input,
               "Can not evaluate Jinja expression [expression=" + std::string(text) +
                 ", error=not implemented]",
               "JinjaEvaluationException"};
}

std::optional<error> validate(std::string_view) { return std::nullopt; }

} // namespace mistral::expr::jinja

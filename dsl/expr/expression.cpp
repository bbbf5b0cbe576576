#include "dsl/expr/expression.hpp"

#include "dsl/expr/jinja.hpp"
#include "dsl/expr/yaql.hpp"

namespace mistral::expr {

namespace {

/// True when `open ... close` occurs on one line (Python's `.*?` without DOTALL).
bool has_pair(std::string_view text, std::string_view open, std::string_view close) {
  // Linear: when the first close after an open lies past a newline, no other
  // open before that newline can match either.
  std::size_t i = 0;
  while ((i = text.find(open, i)) != std::string_view::npos) {
    std::size_t end = text.find(close, i + open.size());
    if (end == std::string_view::npos)
      return false;
    std::size_t nl = text.find('\n', i + open.size());
    if (nl == std::string_view::npos || end < nl)
      return true;
    i = nl + 1;
  }
  return false;
}

bool is_jinja(std::string_view text) {
  return has_pair(text, "{{", "}}") || has_pair(text, "{%", "%}");
}

bool is_yaql(std::string_view text) {
  return has_pair(text, "<%", "%>");
}

} // namespace

language detect(std::string_view text) noexcept {
  if (is_jinja(text))
    return language::jinja;
  if (is_yaql(text))
    return language::yaql;
  return language::none;
}

bool has_expression(std::string_view text) noexcept {
  return detect(text) != language::none;
}

result<json> evaluate(std::string_view text, const eval_env& env) {
  switch (detect(text)) {
    case language::jinja: return jinja::evaluate(text, env);
    case language::yaql: return yaql::evaluate(text, env);
    default: return json(std::string(text));
  }
}

namespace {

/// Python's `not context` for the data view: no layers, or one falsy layer.
bool falsy_context(const data_view& data) {
  if (data.empty())
    return true;
  for (const json* layer : data.layers())
    if (layer && !(layer->is_null() || ((layer->is_object() || layer->is_array()) && layer->empty())))
      return false;
  return true;
}

result<json> evaluate_tree(const json& value, const eval_env& env);

} // namespace

result<json> evaluate_recursively(const json& value, const eval_env& env) {
  // Mistral returns the data untouched when the context is empty.
  if (falsy_context(env.data))
    return value;
  return evaluate_tree(value, env);
}

namespace {

result<json> evaluate_tree(const json& value, const eval_env& env) {
  if (value.is_string())
    return evaluate(value.get_ref<const std::string&>(), env);
  if (value.is_array()) {
    json out = json::array();
    for (const auto& item : value) {
      auto r = evaluate_tree(item, env);
      if (!r.ok())
        return r;
      out.push_back(std::move(*r));
    }
    return out;
  }
  if (value.is_object()) {
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      auto r = evaluate_tree(it.value(), env);
      if (!r.ok())
        return r;
      out[it.key()] = std::move(*r);
    }
    return out;
  }
  return value;
}

} // namespace

std::optional<error> validate(std::string_view text) {
  // Mistral tries Jinja then YAQL; a line holding both is refused.
  bool jinja_found = is_jinja(text);
  if (jinja_found) {
    if (auto err = jinja::validate(text))
      return err;
  }
  if (is_yaql(text)) {
    if (jinja_found)
      return error{errc::invalid_input,
                   "The line already contains an expression of type 'jinja'. Mixing expression types in a "
                   "single line is not allowed.",
                   "ExpressionGrammarException"};
    return yaql::validate(text);
  }
  return std::nullopt;
}

} // namespace mistral::expr

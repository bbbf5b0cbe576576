#pragma once

// Jinja2's filters, tests and globals (jinja2/filters.py, tests.py,
// defaults.py) plus Mistral's expression functions, and the methods of
// Python's str, dict and list that templates call.

#include "dsl/expr/jinja_ast.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace mistral::expr::jinja {

/// The filter called `name`, or nullptr.
filter_fn find_filter(std::string_view name);
/// The test called `name`, or nullptr.
test_fn find_test(std::string_view name);
/// The environment global (or Mistral function bound to `_`) called `name`.
std::optional<value> find_global(evaluator& ev, const std::string& name);
/// A bound method `obj.name` of a str, dict or list, or nullopt.
std::optional<value> find_method(const value& obj, const std::string& name);

/// Python-style binding of call arguments to named parameters: returns one
/// slot per parameter; raises TypeError for surplus or unknown arguments.
std::vector<std::optional<value>> bind_args(call_args& a, std::initializer_list<const char*> params,
                                            const char* fname);

/// markupsafe.escape of text.
std::string html_escape(const std::string& s);

/// Python's int() of a value used as an argument (TypeError otherwise).
int_t to_index(const value& v, const char* what);

} // namespace mistral::expr::jinja

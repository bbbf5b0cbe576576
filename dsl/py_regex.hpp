#pragma once

// Python `re` semantics for the handful of patterns Mistral's DSL uses
// (jsonschema "pattern"/"patternProperties", inline parameters, with-items).

#include <string>
#include <string_view>

namespace mistral::dsl {

/// Python's re.search(pattern, text) != None for a Python pattern.
///
/// `$` keeps Python's meaning (end of text or before a final newline) and `.`
/// does not match a newline. The two whole-string expression patterns of
/// Mistral's EXPRESSION schema are matched without std::regex, so long
/// expressions cannot exhaust the stack.
bool py_search(std::string_view pattern, std::string_view text);

/// Translates a Python pattern into an ECMAScript one for std::regex.
std::string to_ecmascript(std::string_view python_pattern);

/// True when `text` is one whole YAQL expression: `^<%.*?%>\s*$`.
bool is_whole_yaql(std::string_view text) noexcept;

/// True when `text` is one whole Jinja expression: `^({{(.*?)}})\s*$`.
bool is_whole_jinja(std::string_view text) noexcept;

} // namespace mistral::dsl

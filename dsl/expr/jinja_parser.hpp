#pragma once

// Jinja2's lexer and parser (jinja2/lexer.py, jinja2/parser.py) for
// Mistral's environment: default delimiters, trim_blocks, lstrip_blocks,
// no line statements, keep_trailing_newline off. Errors are thrown as
// py_error with class TemplateSyntaxError or TemplateAssertionError.

#include "dsl/expr/jinja_ast.hpp"

#include <string_view>

namespace mistral::expr::jinja {

/// Parses a template as Environment.parse / from_string does.
node_list parse_template(std::string_view source);

/// Parses one expression as Environment.compile_expression does: the whole
/// text must be a single expression ("chunk after expression" otherwise).
node_ptr parse_expression(std::string_view source);

/// Resolves filter and test names, as Jinja's compiler does: an unknown
/// name raises TemplateAssertionError ("No filter named 'x'.").
/// Inside an `if` or an inline if-expression (Jinja's "soft" frames) an
/// unknown name is left for run time, where calling it fails.
void resolve_names(node_list& body, bool soft = false);
void resolve_names(node& n, bool soft = false);

} // namespace mistral::expr::jinja

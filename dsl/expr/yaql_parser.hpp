#pragma once

// yaql 2.0's lexer and grammar (yaql/language/lexer.py, parser.py, factory.py)
// as Mistral configures them: keyword operator `=>`, no delegates.

#include "dsl/expr/yaql_value.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mistral::expr::yaql {

/// The kinds of syntax tree node, one per yaql expression class.
enum class node_kind {
  constant, ///< literal number, string, true/false/null
  keyword,  ///< bare identifier (KeywordConstant): a string, or a property name after `.`
  dollar,   ///< `$`, `$name`: context data
  wrap,     ///< parenthesised expression
  call,     ///< name(args)
  binary,   ///< `a op b`
  unary,    ///< `op a`
  index,    ///< `a[args]`
  list,     ///< `[args]`
  map,      ///< `{args}`
  mapping,  ///< `k => v` inside args
  no_value, ///< an omitted positional argument, as in `f(, x)`
};

/// One node of a parsed expression; immutable after parsing.
struct node {
  node_kind kind = node_kind::constant;
  value constant;   ///< constant/keyword: the literal value
  std::string name; ///< call: function name; binary/unary: operator; dollar: variable (no `$`)
  std::vector<std::unique_ptr<node>> args;
  int pos = 0; ///< offset in the expression text

  /// True for nodes that can take a receiver (function calls), like yaql's uses_receiver.
  bool uses_receiver() const noexcept { return kind == node_kind::call; }
};

using node_ptr = std::unique_ptr<node>;

/// A lexical or grammar error; `kind` is YaqlLexicalException or YaqlGrammarException.
struct syntax_error : std::runtime_error {
  std::string kind;
  syntax_error(std::string k, const std::string& msg) : std::runtime_error(msg), kind(std::move(k)) {}
};

/// Parses a bare YAQL expression; throws syntax_error.
node_ptr parse(std::string_view text);

} // namespace mistral::expr::yaql

#pragma once

// The syntax tree of a parsed Jinja template or expression (the node types
// of jinja2/nodes.py, folded into one struct so the tree stays small).

#include "dsl/expr/jinja_value.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mistral::expr::jinja {

/// The kind of a node. Field use per kind is listed on `node`.
enum class nk : std::uint8_t {
  // expressions
  constant, ///< `constant`
  name,     ///< `name`
  getattr,  ///< a.name
  getitem,  ///< a[b]
  slice,    ///< a:b:c (each optional)
  call,     ///< a(kids..., kwargs..., *c, **d)
  filter,   ///< a | name(kids..., kwargs..., *c, **d); a null in filter blocks
  test,     ///< a is name(kids..., kwargs...)
  neg,      ///< -a
  pos,      ///< +a
  not_,     ///< not a
  binop,    ///< a name b, name one of + - * / // % **
  and_,     ///< a and b
  or_,      ///< a or b
  concat,   ///< kids joined with ~
  compare,  ///< a ops[0] kids[0] ops[1] kids[1] ...
  condexpr, ///< b if a else c
  list,     ///< [kids]
  tuple,    ///< (kids)
  dict,     ///< {kids[0]: vals[0], ...}
  nsref,    ///< name.attr as an assignment target (`name`, `attr`)
  // statements
  data,         ///< literal template text in `name`
  output,       ///< kids: data nodes and expressions, printed in turn
  if_,          ///< if a: body else: else_
  for_,         ///< for a in b [if c]: body else: else_ (`flag` = recursive)
  assign,       ///< set a = b
  assign_block, ///< set a [| c]: body
  with,         ///< with kids = vals: body
  macro,        ///< macro name(kids = vals): body
  call_block,   ///< call(kids = vals) a: body
  filter_block, ///< filter c: body
  scope,        ///< body in its own scope (block, autoescape)
  no_loader,    ///< extends/include/import/from: fails, Mistral has no loader
};

struct node;
using node_ptr = std::unique_ptr<node>;
using node_list = std::vector<node_ptr>;

/// Function implementing a filter.
using filter_fn = value (*)(evaluator&, value&, call_args&);
/// Function implementing a test.
using test_fn = bool (*)(evaluator&, const value&, call_args&);

/// One syntax node; which fields are used depends on `kind` (see nk).
struct node {
  nk kind = nk::constant;
  int line = 1;
  bool flag = false;
  value constant;
  std::string name;
  std::string attr;
  node_ptr a, b, c, d;
  node_list kids;
  node_list vals;
  std::vector<std::pair<std::string, node_ptr>> kwargs;
  std::vector<std::string> ops;
  node_list body;
  node_list else_;
  filter_fn filter = nullptr; ///< resolved when the template is compiled
  test_fn test = nullptr;     ///< resolved when the template is compiled
};

} // namespace mistral::expr::jinja

#pragma once

// Evaluates a parsed Jinja template or expression with the semantics of
// Jinja2's SandboxedEnvironment(undefined=StrictUndefined) as Mistral sets
// it up: `_` is the data context, Mistral's functions are globals bound to
// `_`, and every Python error surfaces as a py_error.

#include "dsl/expr/expression.hpp"
#include "dsl/expr/jinja_ast.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mistral::expr::jinja {

/// One evaluation: variable scopes, the data context and the limits.
/// Not shared between threads; the syntax tree it walks is read-only.
class evaluator {
public:
  explicit evaluator(const eval_env& env);

  /// Evaluates an expression node.
  value eval(const node& n);
  /// Renders statements into `out`.
  void exec(const node_list& body, std::string& out);

  /// Calls a callable value (UndefinedError/TypeError for anything else).
  value call(const value& fn, call_args& args);
  /// environment.getattr of the sandbox: attribute first, then item.
  value getattr(const value& obj, const std::string& name);
  /// environment.getitem of the sandbox: item first, then attribute.
  value getitem(const value& obj, const value& key);
  /// Calls the filter `name` at run time (map('upper')).
  value call_filter(const std::string& name, value subject, call_args& args);
  /// Calls the test `name` at run time (select('odd')).
  bool call_test(const std::string& name, const value& v, call_args& args);

  /// The evaluation environment (data, host, limits).
  const eval_env& env() const { return env_; }
  /// The data context `_`.
  const value& data() const { return data_; }

  /// Counts work; raises when the step budget of one evaluation is spent,
  /// so a runaway template ends in an error instead of a hang.
  void tick(std::uint64_t n = 1);
  /// Raises MemoryError when a result would exceed the memory quota.
  void check_size(std::uint64_t bytes) const;
  /// Raises when one iteration would produce more than max_iterations items.
  void check_items(std::uint64_t count) const;

private:
  using frame = std::vector<std::pair<std::string, value>>;

  const eval_env& env_;
  value data_;
  std::vector<frame> frames_;
  std::uint64_t steps_ = 0;
  std::uint64_t max_steps_;
  std::uint64_t max_bytes_;
  std::int64_t max_items_;
  int depth_ = 0;
  const value* block_subject_ = nullptr; ///< body text of a filter/set block
  bool autoescape_ = false;              ///< inside {% autoescape true %}

  value lookup(const std::string& name) const;
  void assign(const node& target, const value& v);
  void set_local(const std::string& name, value v);
  value eval_binop(const node& n);
  value eval_compare(const node& n);
  value eval_filter(const node& n);
  bool eval_test(const node& n);
  call_args eval_args(const node& n);
  void exec_one(const node& n, std::string& out);
  /// Runs a for loop over `seq` (the evaluated iterable); `depth` counts
  /// the levels of a recursive loop called as loop(children).
  void exec_for(const node& n, const value& seq, std::string& out, int depth);
  value make_macro(const node& n);
  value apply_block_filter(const node& filter_chain, value text);

  struct depth_guard;
  friend struct depth_guard;
};

/// Python's binary operators (+ - * / // % **) on values.
value binary_op(evaluator& ev, const std::string& op, const value& a, const value& b);
/// Python's `in` operator (`needle in hay`).
bool contains(const value& hay, const value& needle);
/// Python's printf-style `fmt % args`.
std::string percent_format(const std::string& fmt, const value& args);

} // namespace mistral::expr::jinja

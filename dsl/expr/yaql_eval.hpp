#pragma once

// The YAQL evaluator: walks a parsed expression over a data_view, resolving
// functions and methods from yaql's standard library and Mistral's functions.

#include "dsl/expr/expression.hpp"
#include "dsl/expr/yaql_parser.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace mistral::expr::yaql {

/// A runtime failure inside YAQL; becomes a YaqlEvaluationException.
struct eval_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A yaql context: variables (stored without `$`; `$` itself is "1") and
/// functions defined with def(), chained to the enclosing context.
struct scope : std::enable_shared_from_this<scope> {
  std::shared_ptr<scope> parent;
  std::vector<std::pair<std::string, value>> vars;
  /// def(name, body): the body node (the second member is unused).
  std::vector<std::pair<std::string, std::pair<const node*, std::shared_ptr<scope>>>> funcs;
  /// Root scope only: the data dict that answers `$__env`, `$__execution`
  /// and `$__task_execution`, read on demand instead of copied in.
  value mistral_vars;

  /// The variable `name` here or in a parent; null when nobody has it.
  value lookup(std::string_view name) const;
  void set(std::string name, value v);
  /// The def() body named `name` and the scope that holds it (null if none).
  std::pair<const node*, const scope*> find_func(std::string_view name) const;
};

using scope_ptr = std::shared_ptr<scope>;

class evaluator;

/// The arguments of one function or method call, evaluated on demand (yaql
/// passes lambdas unevaluated).
class call_args {
public:
  call_args(evaluator& ev, const scope_ptr& sc, const value* receiver, const std::vector<node_ptr>& nodes);

  /// Positional argument count; the receiver of a method call is argument 0.
  std::size_t size() const noexcept { return positional_.size() + (receiver_ ? 1 : 0); }
  /// True if argument i was left out (`f(, x)`).
  bool omitted(std::size_t i) const;
  /// The value of positional argument i.
  value get(std::size_t i);
  /// Argument i called as a lambda with $1..$n (and $) set to `args`.
  value call(std::size_t i, const std::vector<value>& args);
  /// The node of positional argument i (null for the receiver).
  const node* node_at(std::size_t i) const;
  /// The named (`name => value`) argument, if given.
  const node* named(std::string_view name) const;
  value named_value(std::string_view name);
  /// All `k => v` arguments in order (for dict(), switch()).
  const std::vector<const node*>& mappings() const noexcept {
    all_mappings_used_ = true;
    return mappings_;
  }
  /// True when every `k => v` argument was read: a function must not silently
  /// ignore a keyword argument it does not take (Python raises TypeError).
  bool mappings_consumed() const noexcept;
  bool is_method() const noexcept { return receiver_ != nullptr; }

  evaluator& ev;
  scope_ptr sc;

private:
  const value* receiver_;
  std::vector<const node*> positional_;
  std::vector<const node*> mappings_;
  std::vector<std::optional<value>> cache_;
  mutable std::vector<bool> named_used_;
  mutable bool all_mappings_used_ = false;
};

/// A library function: may be called as f(...), as x.f(...), or both.
struct builtin {
  bool as_function = true;
  bool as_method = true;
  value (*fn)(call_args&) = nullptr;
};

/// The table of library functions by yaql name.
const std::unordered_map<std::string, std::vector<builtin>>& library();

/// Thrown by a builtin when the arguments do not match this overload; the
/// evaluator then tries the next one.
struct no_match {};

/// One evaluation: the environment, the limits and the work counters.
class evaluator {
public:
  explicit evaluator(const eval_env& env);

  value eval(const node& n, const scope_ptr& sc);
  /// Calls `name` with a receiver (method) or without (function).
  value call_function(const std::string& name, const scope_ptr& sc, const value* receiver,
                      const std::vector<node_ptr>& args, const node& at);
  /// Evaluates `body` with $1..$n bound, in a child of `sc`.
  value call_lambda(const node& body, const scope_ptr& sc, const std::vector<value>& args);

  /// Counts produced items against the evaluation's work cap.
  void tick(std::size_t n = 1);
  /// Checks one collection's length against the iteration limit (limit_iterators).
  void check_collection(std::size_t n);
  /// Charges bytes against the memory quota.
  void charge(std::size_t bytes);

  const eval_env& env;
  scope_ptr root;

  /// Python operators shared by the evaluator and the library.
  value op_binary(const std::string& op, const value& a, const value& b);
  bool less(const value& a, const value& b);

private:
  value eval_binary(const node& n, const scope_ptr& sc);
  value eval_dot(const node& n, const value& receiver, const scope_ptr& sc);
  value attribute(const value& receiver, const std::string& name);

  std::int64_t max_items_;
  std::int64_t quota_;
  std::int64_t items_ = 0;
  std::int64_t bytes_ = 0;
  int depth_ = 0;
};

/// Raises an eval_error.
[[noreturn]] void fail(const std::string& message);

} // namespace mistral::expr::yaql

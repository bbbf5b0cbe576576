#include "dsl/expr/yaql_eval.hpp"

#include "dsl/expr/yaql_lib.hpp"

#include <cmath>

namespace mistral::expr::yaql {

namespace {

// Safety caps used when the configured limit is "unlimited" (< 0): a runaway
// expression must end in an error, not exhaust the engine's memory.
constexpr std::int64_t default_max_items = 1'000'000;
// Total items one evaluation may produce, whatever the configured limit: it
// bounds the time a runaway expression can take.
constexpr std::int64_t work_cap = 10'000'000;
constexpr std::int64_t default_quota = 256ll << 20;
constexpr int max_eval_depth = 400;

} // namespace

void fail(const std::string& message) {
  throw eval_error(message);
}

// ---- scope ------------------------------------------------------------------

value scope::lookup(std::string_view name) const {
  for (const scope* s = this; s; s = s->parent.get()) {
    for (auto it = s->vars.rbegin(); it != s->vars.rend(); ++it)
      if (it->first == name)
        return it->second;
    if (s->mistral_vars.is(kind::dict) &&
        (name == "__env" || name == "__execution" || name == "__task_execution")) {
      auto v = s->mistral_vars.get(name);
      return v ? *v : value();
    }
  }
  return value();
}

void scope::set(std::string name, value v) {
  for (auto& kv : vars)
    if (kv.first == name) {
      kv.second = std::move(v);
      return;
    }
  vars.emplace_back(std::move(name), std::move(v));
}

std::pair<const node*, const scope*> scope::find_func(std::string_view name) const {
  for (const scope* s = this; s; s = s->parent.get())
    for (const auto& f : s->funcs)
      if (f.first == name)
        return {f.second.first, s};
  return {nullptr, nullptr};
}

// ---- call_args ----------------------------------------------------------------

call_args::call_args(evaluator& e, const scope_ptr& s, const value* receiver,
                     const std::vector<node_ptr>& nodes)
  : ev(e), sc(s), receiver_(receiver) {
  for (const auto& n : nodes) {
    if (n->kind == node_kind::mapping && n->args[0]->kind == node_kind::keyword)
      mappings_.push_back(n.get());
    else if (n->kind == node_kind::mapping)
      mappings_.push_back(n.get());
    else
      positional_.push_back(n.get());
  }
  cache_.resize(positional_.size());
  named_used_.resize(mappings_.size());
}

bool call_args::mappings_consumed() const noexcept {
  if (all_mappings_used_)
    return true;
  for (bool used : named_used_)
    if (!used)
      return false;
  return true;
}

bool call_args::omitted(std::size_t i) const {
  const node* n = node_at(i);
  return n && n->kind == node_kind::no_value;
}

const node* call_args::node_at(std::size_t i) const {
  if (receiver_) {
    if (i == 0)
      return nullptr;
    --i;
  }
  return i < positional_.size() ? positional_[i] : nullptr;
}

value call_args::get(std::size_t i) {
  if (receiver_) {
    if (i == 0)
      return *receiver_;
    --i;
  }
  if (i >= positional_.size())
    throw no_match{};
  if (!cache_[i]) {
    if (positional_[i]->kind == node_kind::no_value)
      cache_[i] = value();
    else
      cache_[i] = ev.eval(*positional_[i], sc);
  }
  return *cache_[i];
}

value call_args::call(std::size_t i, const std::vector<value>& args) {
  const node* n = node_at(i);
  if (!n)
    throw no_match{};
  return ev.call_lambda(*n, sc, args);
}

const node* call_args::named(std::string_view name) const {
  for (std::size_t i = 0; i < mappings_.size(); ++i) {
    const node* m = mappings_[i];
    if (m->args[0]->kind == node_kind::keyword && m->args[0]->name == name) {
      named_used_[i] = true;
      return m->args[1].get();
    }
  }
  return nullptr;
}

value call_args::named_value(std::string_view name) {
  const node* n = named(name);
  return n ? ev.eval(*n, sc) : value();
}

// ---- evaluator ------------------------------------------------------------------

evaluator::evaluator(const eval_env& e)
  : env(e), max_items_(e.lim.max_iterations < 0 ? default_max_items : e.lim.max_iterations),
    quota_(e.lim.memory_quota < 0 ? default_quota : e.lim.memory_quota) {}

void evaluator::check_collection(std::size_t n) {
  if (static_cast<std::int64_t>(n) > max_items_)
    fail("Collection length exceeds " + std::to_string(max_items_) + " elements");
}

void evaluator::tick(std::size_t n) {
  items_ += static_cast<std::int64_t>(n);
  if (items_ > work_cap)
    fail("Expression produced more than " + std::to_string(work_cap) + " items");
  // Every produced item is held somewhere until the result is built.
  charge(n * 2 * sizeof(value));
}

void evaluator::charge(std::size_t bytes) {
  bytes_ += static_cast<std::int64_t>(bytes);
  if (bytes_ > quota_)
    fail("Expression consumed too much memory");
}

value evaluator::call_lambda(const node& body, const scope_ptr& sc, const std::vector<value>& args) {
  auto child = std::make_shared<scope>();
  child->parent = sc;
  for (std::size_t i = 0; i < args.size(); ++i)
    child->vars.emplace_back(std::to_string(i + 1), args[i]);
  return eval(body, child);
}

namespace {

struct depth_guard {
  int& d;
  explicit depth_guard(int& depth) : d(depth) {
    if (++d > max_eval_depth)
      fail("Expression recursion is too deep");
  }
  ~depth_guard() { --d; }
};

} // namespace

value evaluator::eval(const node& n, const scope_ptr& sc) {
  depth_guard guard(depth_);
  switch (n.kind) {
    case node_kind::constant:
    case node_kind::keyword: return n.constant;
    case node_kind::dollar: return sc->lookup(n.name);
    case node_kind::wrap: return eval(*n.args[0], sc);
    case node_kind::no_value: return value();
    case node_kind::call: return call_function(n.name, sc, nullptr, n.args, n);
    case node_kind::binary: return eval_binary(n, sc);
    case node_kind::unary: {
      value v = eval(*n.args[0], sc);
      if (n.name == "not")
        return value::boolean(!truthy(v));
      if (v.is(kind::timespan))
        return n.name == "-" ? value::timespan(-v.micros()) : v;
      if (!v.is_number())
        fail("unary operator " + n.name + " needs a number, got " + type_name(v));
      if (n.name == "+")
        return v;
      if (v.is(kind::floating))
        return value::floating(-v.as_float());
      try {
        return value::big_integer(-v.as_big());
      } catch (const std::runtime_error& e) {
        fail(e.what());
      }
    }
    case node_kind::index: return call_function("#indexer", sc, nullptr, n.args, n);
    case node_kind::list: return call_function("#list", sc, nullptr, n.args, n);
    case node_kind::map: return call_function("#map", sc, nullptr, n.args, n);
    case node_kind::mapping: fail("mapping rule used outside of a function call");
  }
  return value();
}

value evaluator::eval_binary(const node& n, const scope_ptr& sc) {
  const std::string& op = n.name;
  if (op == "." || op == "?.") {
    value receiver = eval(*n.args[0], sc);
    if (op == "?." && receiver.is_null())
      return value();
    return eval_dot(*n.args[1], receiver, sc);
  }
  if (op == "and") {
    value a = eval(*n.args[0], sc);
    return truthy(a) ? eval(*n.args[1], sc) : a;
  }
  if (op == "or") {
    value a = eval(*n.args[0], sc);
    return truthy(a) ? a : eval(*n.args[1], sc);
  }
  if (op == "->") {
    value ctx = eval(*n.args[0], sc);
    if (!ctx.is(kind::context))
      fail("operator -> needs a context on the left, got " + std::string(type_name(ctx)));
    return eval(*n.args[1], ctx.as_context());
  }
  value a = eval(*n.args[0], sc);
  value b = eval(*n.args[1], sc);
  return op_binary(op, a, b);
}

value evaluator::eval_dot(const node& rhs, const value& receiver, const scope_ptr& sc) {
  if (rhs.kind == node_kind::call)
    return call_function(rhs.name, sc, &receiver, rhs.args, rhs);
  if (rhs.kind == node_kind::keyword)
    return attribute(receiver, rhs.name);
  fail("operator . needs a method call or a name on its right");
}

value evaluator::attribute(const value& receiver, const std::string& name) {
  if (receiver.is(kind::dict)) {
    auto v = receiver.get(std::string_view(name));
    if (!v)
      fail("'" + name + "'"); // Python's KeyError text
    return *v;
  }
  if (receiver.is(kind::datetime) || receiver.is(kind::timespan)) {
    if (auto v = lib::datetime_property(receiver, name))
      return *v;
  }
  if (receiver.is_iterable()) {
    seq_t out;
    receiver.for_each([&](const value& item) {
      tick();
      out.push_back(attribute(item, name));
      return true;
    });
    return value::sequence(kind::iterator, std::move(out));
  }
  fail("Unknown function \"#property#" + name + "\""); // yaql looks the name up as a property function
}

namespace {

// Python's repr of a value as yaql holds it after convert_input_data: lists
// are tuples and dicts FrozenDicts (whose repr is the dict's).
void converted_repr(std::string& out, const value& v) {
  if (v.is(kind::list) || v.is(kind::tuple) || v.is(kind::iterator)) {
    out += '(';
    std::size_t n = 0;
    v.for_each([&](const value& x) {
      if (n++)
        out += ", ";
      converted_repr(out, x);
      return true;
    });
    out += n == 1 ? ",)" : ")";
    return;
  }
  if (v.is(kind::dict)) {
    out += '{';
    bool first = true;
    for (const auto& kv : v.pairs()) {
      if (!first)
        out += ", ";
      first = false;
      converted_repr(out, kv.first);
      out += ": ";
      converted_repr(out, kv.second);
    }
    out += '}';
    return;
  }
  out += py_repr(v);
}

// yaql formats the receiver of a failed method call with str().
std::string receiver_text(const value& receiver) {
  if (receiver.is(kind::string))
    return py_str(receiver);
  std::string out;
  converted_repr(out, receiver);
  return out;
}

} // namespace

value evaluator::call_function(const std::string& name, const scope_ptr& sc, const value* receiver,
                               const std::vector<node_ptr>& args, const node& at) {
  if (auto user = sc->find_func(name); user.first) {
    auto child = std::make_shared<scope>();
    child->parent = std::const_pointer_cast<scope>(user.second->shared_from_this());
    std::size_t i = 1;
    if (receiver)
      child->vars.emplace_back(std::to_string(i++), *receiver);
    for (const auto& a : args) {
      if (a->kind == node_kind::mapping && a->args[0]->kind == node_kind::keyword)
        child->vars.emplace_back(a->args[0]->name, eval(*a->args[1], sc));
      else
        child->vars.emplace_back(std::to_string(i++), eval(*a, sc));
    }
    return eval(*user.first, child);
  }
  const auto& lib = library();
  auto it = lib.find(name);
  // yaql's runner.call: no overload of the call's kind (function or method)
  // is NoFunctionRegistered / NoMethodRegistered; overloads that all refuse
  // the arguments are NoMatchingFunction / NoMatchingMethod.
  auto unknown = [&]() {
    if (receiver)
      fail("Unknown method \"" + name + "\" for receiver " + receiver_text(*receiver));
    fail("Unknown function \"" + name + "\"");
  };
  if (it == lib.end())
    unknown();
  bool any_kind = false;
  for (const builtin& b : it->second) {
    if (receiver ? !b.as_method : !b.as_function)
      continue;
    any_kind = true;
    call_args ca(*this, sc, receiver, args);
    try {
      value v = b.fn(ca);
      if (ca.mappings_consumed())
        return v;
    } catch (const no_match&) {
    }
  }
  (void)at;
  if (!any_kind)
    unknown();
  if (receiver)
    fail("No method \"" + name + "\" for receiver " + receiver_text(*receiver) +
         " matches supplied arguments");
  fail("No function \"" + name + "\" matches supplied arguments");
}

// ---- operators ------------------------------------------------------------------

namespace {

value arith(const std::string& op, const value& a, const value& b) {
  bool ints = a.is(kind::integer) && b.is(kind::integer);
  if (op == "+" || op == "-" || op == "*") {
    if (ints) {
      // Python ints do not overflow: compute wide, keep exact up to 2**64.
      __int128 x = a.as_big(), y = b.as_big();
      __int128 r = 0;
      bool of = op == "+"   ? __builtin_add_overflow(x, y, &r)
                : op == "-" ? __builtin_sub_overflow(x, y, &r)
                            : __builtin_mul_overflow(x, y, &r);
      if (of)
        fail("integer result too large");
      try {
        return value::big_integer(r);
      } catch (const std::runtime_error& e) {
        fail(e.what());
      }
    }
    double x = a.as_float(), y = b.as_float();
    return value::floating(op == "+" ? x + y : op == "-" ? x - y : x * y);
  }
  if (op == "/" || op == "mod") {
    if (ints) {
      __int128 x = a.as_big(), y = b.as_big();
      if (y == 0)
        fail(op == "/" ? "integer division or modulo by zero" : "integer modulo by zero");
      __int128 q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      try {
        return value::big_integer(op == "/" ? q : m);
      } catch (const std::runtime_error& e) {
        fail(e.what());
      }
    }
    double x = a.as_float(), y = b.as_float();
    if (y == 0)
      fail(op == "/" ? "float division by zero" : "float modulo");
    if (op == "/")
      return value::floating(x / y);
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0)))
      m += y;
    return value::floating(m);
  }
  fail("unsupported operator " + op);
}

value repeat_seq(evaluator& ev, const value& s, std::int64_t times) {
  seq_t out;
  if (times > 0) {
    if (static_cast<double>(s.size()) * static_cast<double>(times) > 1e12)
      fail("Expression consumed too much memory");
    ev.check_collection(s.size() * static_cast<std::size_t>(times));
    ev.tick(s.size() * static_cast<std::size_t>(times));
    ev.charge(s.size() * static_cast<std::size_t>(times) * sizeof(value));
    seq_t items = s.items();
    for (std::int64_t i = 0; i < times; ++i)
      out.insert(out.end(), items.begin(), items.end());
  }
  return value::sequence(s.is(kind::list) ? kind::list : kind::tuple, std::move(out));
}

value repeat_str(evaluator& ev, std::string_view s, std::int64_t times) {
  std::string out;
  if (times > 0 && !s.empty()) {
    if (static_cast<double>(s.size()) * static_cast<double>(times) > 1e12)
      fail("Expression consumed too much memory");
    ev.charge(s.size() * static_cast<std::size_t>(times));
    out.reserve(s.size() * static_cast<std::size_t>(times));
    for (std::int64_t i = 0; i < times; ++i)
      out.append(s);
  }
  return value::string(std::move(out));
}

value concat_iterables(evaluator& ev, const value& a, const value& b) {
  if (a.is(kind::tuple) && b.is(kind::tuple)) {
    seq_t out = a.items();
    seq_t more = b.items();
    out.insert(out.end(), more.begin(), more.end());
    ev.charge(out.size() * sizeof(value));
    return value::sequence(kind::tuple, std::move(out));
  }
  if (a.is(kind::set) && b.is(kind::set)) {
    seq_t out = a.items();
    seq_t more = b.items();
    out.insert(out.end(), more.begin(), more.end());
    return make_set(out);
  }
  seq_t out = a.items();
  seq_t more = b.items();
  out.insert(out.end(), more.begin(), more.end());
  ev.tick(out.size());
  return value::sequence(kind::iterator, std::move(out));
}

bool compare_numbers(const std::string& op, const value& a, const value& b) {
  if (a.is(kind::integer) && b.is(kind::integer)) {
    __int128 x = a.as_big(), y = b.as_big();
    return op == "<" ? x < y : op == ">" ? x > y : op == "<=" ? x <= y : x >= y;
  }
  double x = a.as_float(), y = b.as_float();
  return op == "<" ? x < y : op == ">" ? x > y : op == "<=" ? x <= y : x >= y;
}

bool subset(const value& a, const value& b) {
  bool all = true;
  a.for_each([&](const value& x) {
    bool found = false;
    b.for_each([&](const value& y) {
      found = equal(x, y);
      return !found;
    });
    all = found;
    return all;
  });
  return all;
}

bool compare(const std::string& op, const value& a, const value& b) {
  if (a.is_null() || b.is_null()) {
    if (a.is_null() && b.is_null())
      return op == "<=" || op == ">=";
    bool left_null = a.is_null();
    return (op == "<" || op == "<=") ? left_null : !left_null;
  }
  if (a.is_number() && b.is_number())
    return compare_numbers(op, a, b);
  if (a.is(kind::string) && b.is(kind::string)) {
    int c = a.as_str().compare(b.as_str());
    return op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
  }
  if (a.is(kind::set) && b.is(kind::set)) {
    bool ab = subset(a, b), ba = subset(b, a);
    if (op == "<=")
      return ab;
    if (op == ">=")
      return ba;
    if (op == "<")
      return ab && !ba;
    return ba && !ab;
  }
  fail("No function \"#operator_" + op + "\" matches supplied arguments");
}

bool contains(const value& collection, const value& x) {
  bool found = false;
  collection.for_each([&](const value& item) {
    found = equal(item, x);
    return !found;
  });
  return found;
}

} // namespace

bool evaluator::less(const value& a, const value& b) {
  return compare("<", a, b);
}

value evaluator::op_binary(const std::string& op, const value& a, const value& b) {
  if (op == "=")
    return value::boolean(equal(a, b));
  if (op == "!=")
    return value::boolean(!equal(a, b));
  if (a.is(kind::datetime) || a.is(kind::timespan) || b.is(kind::datetime) || b.is(kind::timespan)) {
    if (auto v = lib::datetime_binary(op, a, b))
      return *v;
    fail("No function \"#operator_" + op + "\" matches supplied arguments");
  }
  if (op == "<" || op == ">" || op == "<=" || op == ">=")
    return value::boolean(compare(op, a, b));
  if (a.is_number() && b.is_number())
    return arith(op, a, b);
  if (op == "+") {
    if (a.is(kind::string) && b.is(kind::string)) {
      charge(a.size() + b.size());
      std::string s(a.as_str());
      s.append(b.as_str());
      return value::string(std::move(s));
    }
    if (a.is_iterable() && b.is_iterable())
      return concat_iterables(*this, a, b);
    if (a.is(kind::dict) && b.is(kind::dict)) {
      dict_t pairs = a.pairs();
      dict_t more = b.pairs();
      pairs.insert(pairs.end(), more.begin(), more.end());
      return make_dict(pairs);
    }
  }
  if (op == "-" && a.is(kind::set) && b.is(kind::set)) {
    seq_t out;
    a.for_each([&](const value& x) {
      if (!contains(b, x))
        out.push_back(x);
      return true;
    });
    return make_set(out);
  }
  if (op == "*") {
    if (a.is_sequence() && b.is(kind::integer))
      return repeat_seq(*this, a, b.as_int());
    if (a.is(kind::integer) && b.is_sequence())
      return repeat_seq(*this, b, a.as_int());
    if (a.is(kind::string) && b.is(kind::integer))
      return repeat_str(*this, a.as_str(), b.as_int());
    if (a.is(kind::integer) && b.is(kind::string))
      return repeat_str(*this, b.as_str(), a.as_int());
  }
  if (op == "in") {
    if (a.is(kind::string) && b.is(kind::string))
      return value::boolean(b.as_str().find(a.as_str()) != std::string_view::npos);
    if (b.is_iterable())
      return value::boolean(contains(b, a));
  }
  if (op == "=~" || op == "!~") {
    // Delegated to the regex library through a synthetic call.
    auto lit = [](const value& v) {
      auto n = std::make_unique<node>();
      n->kind = node_kind::constant;
      n->constant = v;
      return n;
    };
    std::vector<node_ptr> args;
    args.push_back(lit(b));
    value r = call_function("matches", root, &a, args, *args[0]);
    return op == "=~" ? r : value::boolean(!r.as_bool());
  }
  fail("No function \"#operator_" + op + "\" matches supplied arguments");
}

} // namespace mistral::expr::yaql

#include "dsl/expr/yaql_lib.hpp"

#include "dsl/expr/functions.hpp"

namespace mistral::expr::yaql {

namespace lib {

void add(table& t, const std::string& name, value (*fn)(call_args&), bool as_function, bool as_method) {
  t[name].push_back(builtin{as_function, as_method, fn});
}

void arity(call_args& c, std::size_t min, std::size_t max) {
  if (c.size() < min || c.size() > max)
    throw no_match{};
}

std::int64_t int_arg(call_args& c, std::size_t i) {
  value v = c.get(i);
  if (!v.is(kind::integer))
    throw no_match{};
  return v.as_int();
}

std::string str_arg(call_args& c, std::size_t i) {
  value v = c.get(i);
  if (!v.is(kind::string))
    throw no_match{};
  return std::string(v.as_str());
}

value iterable_arg(call_args& c, std::size_t i) {
  value v = c.get(i);
  if (!v.is_iterable())
    throw no_match{};
  return v;
}

value dict_arg(call_args& c, std::size_t i) {
  value v = c.get(i);
  if (!v.is(kind::dict))
    throw no_match{};
  return v;
}

value number_arg(call_args& c, std::size_t i) {
  value v = c.get(i);
  if (!v.is_number())
    throw no_match{};
  return v;
}

value make_iterator(evaluator& ev, seq_t items) {
  ev.check_collection(items.size());
  ev.tick(items.size());
  return value::sequence(kind::iterator, std::move(items));
}

value make_tuple(seq_t items) {
  return value::sequence(kind::tuple, std::move(items));
}

value make_list(seq_t items) {
  return value::sequence(kind::list, std::move(items));
}

namespace {

// ---- system.py ----------------------------------------------------------------

scope_ptr child_of(const scope_ptr& sc) {
  auto s = std::make_shared<scope>();
  s->parent = sc;
  return s;
}

value fn_let(call_args& c) {
  if (c.is_method())
    throw no_match{};
  auto s = child_of(c.sc);
  for (std::size_t i = 0; i < c.size(); ++i)
    s->set(std::to_string(i + 1), c.get(i));
  for (const node* m : c.mappings()) {
    if (m->args[0]->kind != node_kind::keyword)
      throw no_match{};
    s->set(m->args[0]->name, c.ev.eval(*m->args[1], c.sc));
  }
  return value::context(s);
}

value fn_with(call_args& c) {
  auto s = child_of(c.sc);
  for (std::size_t i = 0; i < c.size(); ++i)
    s->set(std::to_string(i + 1), c.get(i));
  return value::context(s);
}

value fn_unpack(call_args& c) {
  value seq = iterable_arg(c, 0);
  seq_t items = seq.items();
  auto s = child_of(c.sc);
  std::size_t names = c.size() - 1;
  if (names > 0 && names != items.size())
    fail("Cannot unpack " + std::to_string(items.size()) + " elements into " + std::to_string(names));
  for (std::size_t i = 0; i < items.size(); ++i)
    s->set(names ? str_arg(c, i + 1) : std::to_string(i + 1), items[i]);
  return value::context(s);
}

value fn_def(call_args& c) {
  arity(c, 2, 2);
  std::string name = str_arg(c, 0);
  const node* body = c.node_at(1);
  auto s = child_of(c.sc);
  // The body runs in the scope that holds the function, so it can recurse.
  s->funcs.emplace_back(name, std::make_pair(body, nullptr));
  return value::context(s);
}

value fn_assert(call_args& c) {
  arity(c, 2, 3);
  value obj = c.get(0);
  if (!truthy(c.call(1, {obj})))
    fail(c.size() > 2 ? str_arg(c, 2) : "Assertion failed");
  return obj;
}

/// call(name, args, kwargs[, receiver]): a call built from data.
value fn_call(call_args& c) {
  arity(c, 3, 4);
  std::string name = str_arg(c, 0);
  value args = iterable_arg(c, 1);
  value kwargs = dict_arg(c, 2);
  std::vector<node_ptr> nodes;
  auto constant = [](const value& v) {
    auto n = std::make_unique<node>();
    n->kind = node_kind::constant;
    n->constant = v;
    return n;
  };
  args.for_each([&](const value& v) {
    nodes.push_back(constant(v));
    return true;
  });
  for (const auto& kv : kwargs.pairs()) {
    auto m = std::make_unique<node>();
    m->kind = node_kind::mapping;
    auto key = constant(kv.first);
    key->kind = node_kind::keyword;
    key->name = py_str(kv.first);
    m->args.push_back(std::move(key));
    m->args.push_back(constant(kv.second));
    nodes.push_back(std::move(m));
  }
  if (c.size() == 4) {
    value receiver = c.get(3);
    return c.ev.call_function(name, c.sc, &receiver, nodes, *c.node_at(0));
  }
  return c.ev.call_function(name, c.sc, nullptr, nodes, *c.node_at(0));
}

// ---- Mistral's functions (std_functions.py) -------------------------------------

value unwrap(const result<json>& r) {
  if (!r.ok())
    fail(r.err().message);
  return value::from_json_owned(r.value());
}

/// Mistral's functions receive `data` already converted to output form.
json data_arg(call_args& c, std::size_t i) {
  return to_json(c.get(i));
}

std::optional<std::string> opt_str(call_args& c, std::size_t i, std::string_view name) {
  value v = i < c.size() ? c.get(i) : c.named_value(name);
  if (v.is_null())
    return std::nullopt;
  return py_str(v);
}

value fn_env(call_args& c) {
  arity(c, 0, 0);
  return c.sc->lookup("__env");
}

value fn_execution(call_args& c) {
  arity(c, 0, 0);
  return unwrap(fn::execution(c.ev.env));
}

value fn_executions(call_args& c) {
  executions_query q;
  q.id = opt_str(c, 0, "id");
  q.root_execution_id = opt_str(c, 1, "root_execution_id");
  q.state = opt_str(c, 2, "state");
  q.from_time = opt_str(c, 3, "from_time");
  q.to_time = opt_str(c, 4, "to_time");
  return unwrap(fn::executions(c.ev.env, q));
}

value fn_task(call_args& c) {
  arity(c, 0, 1);
  std::optional<std::string> name;
  if (c.size() == 1) {
    value v = c.get(0);
    if (!v.is_null())
      name = py_str(v);
  } else if (c.named("task_name")) {
    value v = c.named_value("task_name");
    if (!v.is_null())
      name = py_str(v);
  }
  return unwrap(fn::task(c.ev.env, name));
}

value fn_tasks(call_args& c) {
  tasks_query q;
  q.workflow_execution_id = opt_str(c, 0, "workflow_execution_id");
  value rec = c.size() > 1 ? c.get(1) : c.named_value("recursive");
  q.recursive = truthy(rec);
  q.state = opt_str(c, 2, "state");
  value flat = c.size() > 3 ? c.get(3) : c.named_value("flat");
  q.flat = truthy(flat);
  return unwrap(fn::tasks(c.ev.env, q));
}

value fn_global(call_args& c) {
  arity(c, 1, 1);
  return unwrap(fn::global(c.ev.env, py_str(c.get(0))));
}

value fn_uuid(call_args& c) {
  arity(c, 0, 0);
  return value::string(fn::uuid());
}

value fn_json_dump(call_args& c) {
  arity(c, 1, 1);
  return value::string(fn::json_dump(data_arg(c, 0)));
}

value fn_json_pp(call_args& c) {
  arity(c, 0, 1);
  value v = c.size() ? c.get(0) : value();
  // `data or context`: with falsy data Mistral dumps the yaql context
  // object itself, which JSON cannot serialise.
  if (!truthy(v))
    fail("Object of type Context is not JSON serializable");
  return value::string(fn::json_pp(to_json(v)));
}

value fn_json_parse(call_args& c) {
  arity(c, 1, 1);
  value v = c.get(0);
  if (!v.is(kind::string))
    fail(std::string("the JSON object must be str, bytes or bytearray, not ") + type_name(v));
  return unwrap(fn::json_parse(std::string(v.as_str())));
}

/// True if a frozenset sits anywhere in v: PyYAML's safe_dump cannot represent it.
bool holds_set(const value& v) {
  if (v.is(kind::set))
    return true;
  bool found = false;
  if (v.is_iterable())
    v.for_each([&](const value& x) {
      found = holds_set(x);
      return !found;
    });
  else if (v.is(kind::dict) && !v.json_ref())
    for (const auto& kv : v.pairs())
      if ((found = holds_set(kv.second)))
        break;
  return found;
}

value fn_yaml_dump(call_args& c) {
  arity(c, 1, 1);
  value v = c.get(0);
  if (holds_set(v))
    fail("cannot represent an object: frozenset");
  return value::string(fn::yaml_dump(to_json(v)));
}

value fn_yaml_parse(call_args& c) {
  arity(c, 1, 1);
  value v = c.get(0);
  if (!v.is(kind::string))
    fail("yaml_parse expects a string");
  return unwrap(fn::yaml_parse(std::string(v.as_str())));
}

} // namespace

void register_system(table& t) {
  add(t, "let", fn_let, true, false);
  add(t, "with", fn_with, true, false);
  add(t, "unpack", fn_unpack, false, true);
  add(t, "def", fn_def, true, false);
  add(t, "assert", fn_assert, false, true);
  add(t, "call", fn_call, true, false);
}

void register_mistral(table& t) {
  // Mistral registers plain functions (no yaql method decorator).
  add(t, "env", fn_env, true, false);
  add(t, "execution", fn_execution, true, false);
  add(t, "executions", fn_executions, true, false);
  add(t, "task", fn_task, true, false);
  add(t, "tasks", fn_tasks, true, false);
  add(t, "global", fn_global, true, false);
  add(t, "uuid", fn_uuid, true, false);
  add(t, "json_dump", fn_json_dump, true, false);
  add(t, "json_pp", fn_json_pp, true, false);
  add(t, "json_parse", fn_json_parse, true, false);
  add(t, "yaml_dump", fn_yaml_dump, true, false);
  add(t, "yaml_parse", fn_yaml_parse, true, false);
}

} // namespace lib

const std::unordered_map<std::string, std::vector<builtin>>& library() {
  static const lib::table table = [] {
    lib::table t;
    lib::register_system(t);
    lib::register_collections(t);
    lib::register_queries(t);
    lib::register_strings(t);
    lib::register_math(t);
    lib::register_regex(t);
    lib::register_mistral(t);
    lib::register_datetime(t);
    return t;
  }();
  return table;
}

} // namespace mistral::expr::yaql

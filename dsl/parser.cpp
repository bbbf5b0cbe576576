#include "dsl/parser.hpp"

#include <mutex>
#include <unordered_map>

#include "dsl/expr/expression.hpp"
#include "dsl/expr/py_value.hpp"
#include "dsl/inline_params.hpp"
#include "dsl/json_schema.hpp"
#include "dsl/py_json.hpp"
#include "dsl/py_repr.hpp"
#include "dsl/schemas.hpp"
#include "dsl/yaml_loader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <set>
#include <unordered_map>

namespace mistral::dsl {

bool is_engine_command(std::string_view name) noexcept {
  for (const char* c : engine_commands)
    if (name == c)
      return true;
  return false;
}

const char* to_string(workflow_type t) noexcept {
  return t == workflow_type::direct ? "direct" : "reverse";
}

const task_spec* workflow_spec::find_task(std::string_view n) const noexcept {
  for (const auto& t : tasks)
    if (t.name == n)
      return &t;
  return nullptr;
}

namespace {

// Python truth of loaded data: a date is truthy.
bool py_truthy(const json& v) {
  return is_timestamp(v) || expr::py_truthy(v);
}
using path_t = std::vector<std::string>;

constexpr std::size_t max_task_name = 255;
constexpr std::size_t max_join_task_name = max_task_name - 47;

const char* const policy_keys[] = {"retry",        "wait-before", "wait-after", "timeout",
                                   "pause-before", "concurrency", "fail-on"};

path_t operator+(path_t p, const std::string& key) {
  p.push_back(key);
  return p;
}

/// data.get(key) with Python's None for a missing key.
const json& get(const json& data, const char* key) {
  static const json null_value;
  if (!data.is_object())
    return null_value;
  auto it = data.find(key);
  return it == data.end() ? null_value : *it;
}

std::string string_or_empty(const json& v) {
  return v.is_null() ? std::string() : v.is_string() ? v.get<std::string>() : py_str(v);
}

std::vector<std::string> string_list(const json& v) {
  std::vector<std::string> out;
  if (v.is_string())
    out.push_back(v.get<std::string>());
  else if (v.is_array())
    for (const auto& x : v)
      out.push_back(string_or_empty(x));
  return out;
}

// mistral_lib.utils.get_dict_from_entries: `- a` is required, `- a: 1` optional.
std::vector<input_param> input_entries(const json& v) {
  std::vector<input_param> out;
  if (!v.is_array())
    return out;
  auto put = [&](const std::string& name, std::optional<json> def) {
    for (auto& p : out)
      if (p.name == name) {
        p.default_value = std::move(def);
        return;
      }
    out.push_back({name, std::move(def)});
  };
  for (const auto& e : v) {
    if (e.is_object()) {
      for (auto it = e.begin(); it != e.end(); ++it)
        put(it.key(), *it);
    } else {
      put(string_or_empty(e), std::nullopt);
    }
  }
  return out;
}

// mistral_lib.utils.merge_dicts(left, right, overwrite=True).
void merge_dicts(json& left, const json& right) {
  for (auto it = right.begin(); it != right.end(); ++it) {
    auto f = left.find(it.key());
    if (f == left.end())
      left[it.key()] = *it;
    else if (f->is_object() && it->is_object())
      merge_dicts(*f, *it);
    else
      *f = *it;
  }
}

// oslo_utils.uuidutils.is_uuid_like: 32 hex digits, dashes anywhere valid
// for uuid.UUID(), optional braces / urn:uuid: prefix.
bool is_uuid_like(const std::string& s) {
  std::string v = s;
  for (const char* prefix : {"urn:", "uuid:"})
    if (v.rfind(prefix, 0) == 0)
      v = v.substr(std::string(prefix).size());
  if (!v.empty() && v.front() == '{' && v.back() == '}')
    v = v.substr(1, v.size() - 2);
  std::string hex;
  for (char c : v) {
    if (c == '-')
      continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return false;
    hex += c;
  }
  return hex.size() == 32;
}

// Python's float() of a version value; nullopt when float() raises.
std::optional<double> py_float(const json& v) {
  if (v.is_boolean())
    return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_number())
    return v.get<double>();
  if (!v.is_string())
    return std::nullopt;
  std::string s = v.get<std::string>();
  auto ws = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && ws(s.front()))
    s.erase(s.begin());
  while (!s.empty() && ws(s.back()))
    s.pop_back();
  std::string clean;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1])))
        return std::nullopt;
      continue;
    }
    if (s[i] == 'x' || s[i] == 'X')
      return std::nullopt;
    clean += s[i];
  }
  if (clean.empty())
    return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size())
    return std::nullopt;
  return d;
}

/// Carries the document (for positions) through the checks.
class builder {
public:
  explicit builder(const loaded_yaml* doc) : doc_(doc) {}

  // -- errors ----------------------------------------------------------------

  error fail(std::string message, const path_t& path, const char* kind) const {
    std::string pointer, dotted;
    for (const auto& p : path) {
      pointer += "/" + pointer_escape(p);
      dotted += (dotted.empty() ? "" : ".") + p;
    }
    if (doc_) {
      yaml_mark m = doc_->find_mark(pointer);
      if (m.line > 0)
        message += "\n  at line " + std::to_string(m.line) + ", column " + std::to_string(m.column) +
                   (dotted.empty() ? "" : ": " + dotted);
    }
    return error{errc::invalid_input, std::move(message), kind};
  }

  status check_schema(const json& data, const json& schema, const path_t& path) const {
    path_t rel;
    auto msg = validate_json_schema(data, schema, &rel);
    if (!msg)
      return ok_v;
    path_t full = path;
    full.insert(full.end(), rel.begin(), rel.end());
    return fail("Invalid DSL: " + *msg, full, "InvalidModelException");
  }

  status check_expression(const json& v, const path_t& path) const {
    if (!v.is_string())
      return ok_v;
    if (auto e = expr::validate(v.get_ref<const std::string&>()))
      return fail(e->message, path, e->kind.empty() ? "ExpressionGrammarException" : e->kind.c_str());
    return ok_v;
  }

  // BaseSpec.validate_expr: a string, the strings of a list, or the string
  // values of a dict (not nested ones).
  status validate_expr(const json& v, const path_t& path) const {
    if (v.is_string())
      return check_expression(v, path);
    if (v.is_array()) {
      for (std::size_t i = 0; i < v.size(); ++i)
        if (auto s = check_expression(v[i], path + std::to_string(i)); !s)
          return s;
    } else if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it)
        if (auto s = check_expression(*it, path + it.key()); !s)
          return s;
    }
    return ok_v;
  }

  status validate_expr_key(const json& data, const char* key, const path_t& path) const {
    return validate_expr(get(data, key), path + key);
  }

  // -- small specs -------------------------------------------------------------

  result<publish_spec> build_publish(const json& p, const path_t& path) const {
    if (auto s = check_schema(p, schemas::publish(), path); !s)
      return std::move(s).err();
    publish_spec out{get(p, "branch"), get(p, "global"), get(p, "atomic")};
    if (!py_truthy(out.branch) && !py_truthy(out.global) && !py_truthy(out.atomic))
      return fail("Either 'branch', 'global' or 'atomic' must be specified: ", path, "InvalidModelException");
    for (const char* k : {"branch", "global", "atomic"})
      if (auto s = validate_expr_key(p, k, path); !s)
        return std::move(s).err();
    return out;
  }

  // on_clause.prepare_next_clause: a string, a list of names / {name: cond},
  // or (quirk kept) a one-key dict, which yields its key without condition.
  result<std::vector<transition>> next_clause(const json& next, const path_t& path) const {
    std::vector<transition> out;
    if (!py_truthy(next))
      return out;
    std::vector<std::pair<std::string, std::string>> tuples;
    std::vector<path_t> paths;
    if (next.is_string()) {
      tuples.emplace_back(next.get<std::string>(), "");
      paths.push_back(path);
    } else if (next.is_object()) {
      for (auto it = next.begin(); it != next.end(); ++it) {
        tuples.emplace_back(it.key(), "");
        paths.push_back(path + it.key());
      }
    } else if (next.is_array()) {
      for (std::size_t i = 0; i < next.size(); ++i) {
        const json& item = next[i];
        if (item.is_object() && !item.empty()) {
          tuples.emplace_back(item.begin().key(), string_or_empty(item.begin().value()));
        } else {
          tuples.emplace_back(string_or_empty(item), "");
        }
        paths.push_back(path + std::to_string(i));
      }
    }
    for (std::size_t i = 0; i < tuples.size(); ++i) {
      auto cmd = parse_command(tuples[i].first);
      if (!cmd)
        return fail(cmd.err().message, paths[i], "InvalidModelException");
      out.push_back(transition{cmd->command, tuples[i].second, cmd->params});
    }
    return out;
  }

  result<on_clause_spec> build_on_clause(const json& c, const path_t& path) const {
    if (auto s = check_schema(c, schemas::on_clause(), path); !s)
      return std::move(s).err();
    on_clause_spec out;
    const json* next = &c;
    if (c.is_object()) {
      if (const json& p = get(c, "publish"); !p.is_null()) {
        auto pub = build_publish(p, path + "publish");
        if (!pub)
          return std::move(pub).err();
        out.publish = std::move(*pub);
      }
      next = &get(c, "next");
    }
    auto n = next_clause(*next, c.is_object() ? path + "next" : path);
    if (!n)
      return std::move(n).err();
    out.next = std::move(*n);
    return out;
  }

  // DirectWorkflowTaskSpec / TaskDefaultsSpec._validate_transitions: the
  // target and condition strings of each transition are expressions.
  status validate_transitions(const std::optional<on_clause_spec>& c, const path_t& path) const {
    if (!c)
      return ok_v;
    for (const auto& t : c->next) {
      if (auto s = check_expression(json(t.target), path); !s)
        return s;
      if (auto s = check_expression(json(t.condition), path); !s)
        return s;
    }
    return ok_v;
  }

  result<retry_spec> build_retry(const json& raw, const path_t& path) const {
    json data = raw;
    if (raw.is_string()) { // one-line form: "count=3 delay=5 break-on=<% ... %>"
      auto cmd = parse_command(raw.get<std::string>());
      if (!cmd)
        return fail(cmd.err().message, path, "InvalidModelException");
      data = cmd->params;
    }
    if (auto s = check_schema(data, schemas::retry(), path); !s)
      return std::move(s).err();
    for (const char* k : {"count", "delay", "break-on", "continue-on"})
      if (auto s = check_expression(get(data, k), path + k); !s)
        return std::move(s).err();
    return retry_spec{get(data, "count"), get(data, "delay"), get(data, "break-on"),
                      get(data, "continue-on")};
  }

  // BaseSpec._group_spec(PoliciesSpec, ...): only the truthy policy keys.
  result<policies_spec> build_policies(const json& owner, const path_t& path) const {
    json group = json::object();
    for (const char* k : policy_keys)
      if (const json& v = get(owner, k); py_truthy(v))
        group[k] = v;
    if (auto s = check_schema(group, schemas::policies(), path); !s)
      return std::move(s).err();
    for (const char* k : policy_keys)
      if (std::string_view(k) != "retry")
        if (auto s = validate_expr_key(group, k, path); !s)
          return std::move(s).err();
    policies_spec out;
    out.given = group;
    if (const json& r = get(group, "retry"); !r.is_null()) {
      auto retry = build_retry(r, path + "retry");
      if (!retry)
        return std::move(retry).err();
      out.retry = std::move(*retry);
    }
    auto pick = [&](const char* k, json& field) {
      if (group.contains(k))
        field = group[k];
    };
    pick("wait-before", out.wait_before);
    pick("wait-after", out.wait_after);
    pick("timeout", out.timeout);
    pick("pause-before", out.pause_before);
    pick("concurrency", out.concurrency);
    pick("fail-on", out.fail_on);
    return out;
  }

  status build_clauses(const json& data, const path_t& path, std::optional<on_clause_spec>& complete,
                       std::optional<on_clause_spec>& success, std::optional<on_clause_spec>& err) const {
    struct slot {
      const char* key;
      std::optional<on_clause_spec>* out;
    } slots[] = {{"on-complete", &complete}, {"on-success", &success}, {"on-error", &err}};
    for (auto& s : slots) {
      const json& c = get(data, s.key);
      if (c.is_null())
        continue;
      auto clause = build_on_clause(c, path + s.key);
      if (!clause)
        return std::move(clause).err();
      *s.out = std::move(*clause);
    }
    return ok_v;
  }

  result<task_defaults_spec> build_task_defaults(const json& d, const path_t& path) const {
    if (auto s = check_schema(d, schemas::task_defaults(), path); !s)
      return std::move(s).err();
    if (auto s = validate_expr_key(d, "safe-rerun", path); !s)
      return std::move(s).err();
    task_defaults_spec out;
    auto pol = build_policies(d, path);
    if (!pol)
      return std::move(pol).err();
    out.policies = std::move(*pol);
    if (auto s = build_clauses(d, path, out.on_complete, out.on_success, out.on_error); !s)
      return std::move(s).err();
    out.safe_rerun = get(d, "safe-rerun");
    out.requires_ = string_list(get(d, "requires"));
    if (auto s = validate_transitions(out.on_complete, path + "on-complete"); !s)
      return std::move(s).err();
    if (auto s = validate_transitions(out.on_success, path + "on-success"); !s)
      return std::move(s).err();
    if (auto s = validate_transitions(out.on_error, path + "on-error"); !s)
      return std::move(s).err();
    return out;
  }

  // -- tasks -------------------------------------------------------------------

  result<std::vector<with_items_spec>> build_with_items(const json& t, const path_t& path) const {
    std::vector<with_items_spec> out;
    json raw = get(t, "with-items");
    if (raw.is_null())
      return out;
    if (raw.is_string())
      raw = json::array({raw});
    for (const auto& item : raw) {
      if (!item.is_string())
        return fail("'with-items' elements should be strings: " + py_repr(t), path, "InvalidModelException");
      auto m = match_with_items(item.get<std::string>());
      if (!m)
        return fail("Wrong format of 'with-items' property. Please use format 'var in {[some, "
                    "list] | <% $.array %> }: " +
                      py_repr(t),
                    path, "InvalidModelException");
      if (auto s = check_expression(json(m->collection), path); !s)
        return std::move(s).err();
      with_items_spec w{m->var, json(m->collection)};
      if (!m->collection.empty() && m->collection[0] == '[') {
        auto parsed = py_json_loads(m->collection);
        if (!parsed)
          return fail("Invalid array in 'with-items' clause: " + m->collection +
                        ", error: " + parsed.err().message,
                      path, "InvalidModelException");
        w.collection = std::move(*parsed);
      }
      bool replaced = false;
      for (auto& existing : out)
        if (existing.var == w.var) {
          existing = w;
          replaced = true;
        }
      if (!replaced)
        out.push_back(std::move(w));
    }
    return out;
  }

  result<task_spec> build_task(json& t, const path_t& path, workflow_type type) const {
    const json& schema = type == workflow_type::direct ? schemas::direct_task() : schemas::reverse_task();
    if (auto s = check_schema(t, schema, path); !s)
      return std::move(s).err();
    task_spec out;
    out.name = string_or_empty(get(t, "name"));
    out.type = type;
    if (out.name.size() > max_task_name)
      return fail("The length of a '" + out.name + "' task name must not exceed " +
                    std::to_string(max_task_name) + " symbols",
                  path, "InvalidModelException");
    const json& action = get(t, "action");
    const json& wf = get(t, "workflow");
    command_call call;
    if (py_truthy(action) || py_truthy(wf)) {
      const char* key = py_truthy(action) ? "action" : "workflow";
      auto cmd = parse_command(string_or_empty(py_truthy(action) ? action : wf));
      if (!cmd)
        return fail(cmd.err().message, path + key, "InvalidModelException");
      call = std::move(*cmd);
      if (auto s = validate_expr(call.params, path + key); !s)
        return std::move(s).err();
    }
    for (const char* k : {"input", "publish", "publish-on-error", "keep-result", "safe-rerun"})
      if (auto s = validate_expr_key(t, k, path); !s)
        return std::move(s).err();
    auto wi = build_with_items(t, path + "with-items");
    if (!wi)
      return std::move(wi).err();
    out.with_items = std::move(*wi);
    auto pol = build_policies(t, path);
    if (!pol)
      return std::move(pol).err();
    out.policies = std::move(*pol);
    out.description = string_or_empty(get(t, "description"));
    out.tags = string_list(get(t, "tags"));
    out.publish = t.contains("publish") ? t["publish"] : json::object();
    out.publish_on_error = t.contains("publish-on-error") ? t["publish-on-error"] : json::object();
    out.target = get(t, "target");
    out.keep_result = t.contains("keep-result") ? t["keep-result"] : json(true);
    out.safe_rerun = get(t, "safe-rerun");
    // _process_action_and_workflow: inline params are merged into the task's
    // own input dict (so the stored spec shows them too).
    if (py_truthy(action))
      out.action = call.command;
    else if (py_truthy(wf))
      out.workflow = call.command;
    else
      out.action = "std.noop";
    if (!call.params.empty()) {
      if (!t.contains("input"))
        out.input = call.params;
      else if (t["input"].is_object())
        merge_dicts(t["input"], call.params);
    }
    if (t.contains("input"))
      out.input = t["input"];
    if (type == workflow_type::direct) {
      out.join = get(t, "join");
      if (auto s = build_clauses(t, path, out.on_complete, out.on_success, out.on_error); !s)
        return std::move(s).err();
      if (auto s = validate_transitions(out.on_complete, path + "on-complete"); !s)
        return std::move(s).err();
      if (auto s = validate_transitions(out.on_success, path + "on-success"); !s)
        return std::move(s).err();
      if (auto s = validate_transitions(out.on_error, path + "on-error"); !s)
        return std::move(s).err();
      if (py_truthy(out.join) && out.name.size() > max_join_task_name)
        return fail("The length of a '" + out.name + "' join task name must not exceed " +
                      std::to_string(max_join_task_name) + " symbols",
                    path, "InvalidModelException");
    } else {
      out.requires_ = string_list(get(t, "requires"));
    }
    return out;
  }

  // -- workflows ---------------------------------------------------------------

  result<workflow_spec> build_workflow(json& v, const path_t& path) const {
    if (!v.is_object())
      return fail("A specification with polymorphic key must be backed by a dictionary "
                  "[spec_cls=<class 'mistral.lang.v2.workflows.WorkflowSpec'>, data=" +
                    py_str(v) + "]",
                  path, "InvalidModelException");
    json type_value = v.contains("type") ? v["type"] : json("direct");
    if (type_value != json("direct") && type_value != json("reverse"))
      return fail("Failed to find a specification class to instantiate "
                  "[spec_cls=<class 'mistral.lang.v2.workflows.WorkflowSpec'>, data=" +
                    py_repr(v) + "]",
                  path + "type", "DSLParsingException");
    workflow_type type = type_value == json("direct") ? workflow_type::direct : workflow_type::reverse;
    if (auto s = check_schema(v, schemas::workflow(), path); !s)
      return std::move(s).err();
    if (!py_truthy(get(v, "tasks")))
      return fail("Workflow doesn't have any tasks [data=" + py_repr(v) + "]", path, "InvalidModelException");
    for (const char* k : {"output", "vars"})
      if (auto s = validate_expr_key(v, k, path); !s)
        return std::move(s).err();

    workflow_spec out;
    out.name = string_or_empty(get(v, "name"));
    out.description = string_or_empty(get(v, "description"));
    out.tags = string_list(get(v, "tags"));
    out.type = type;
    out.input = input_entries(get(v, "input"));
    out.output = v.contains("output") ? v["output"] : json::object();
    out.output_on_error = v.contains("output-on-error") ? v["output-on-error"] : json::object();
    out.vars = v.contains("vars") ? v["vars"] : json::object();
    if (const json& td = get(v, "task-defaults"); !td.is_null()) {
      auto d = build_task_defaults(td, path + "task-defaults");
      if (!d)
        return std::move(d).err();
      out.task_defaults = std::move(*d);
    }
    json& tasks = v["tasks"];
    for (auto it = tasks.begin(); it != tasks.end(); ++it)
      if (it->is_object())
        (*it)["type"] = to_string(type);
    for (auto it = tasks.begin(); it != tasks.end(); ++it) {
      if (it.key() == "version")
        continue; // BaseSpecList skips a 'version' key: such a task does not exist
      path_t tpath = path + "tasks" + it.key();
      if (!it->is_object())
        return fail("A specification with polymorphic key must be backed by a dictionary "
                    "[spec_cls=<class 'mistral.lang.v2.tasks.TaskSpec'>, data=" +
                      py_str(*it) + "]",
                    tpath, "InvalidModelException");
      (*it)["name"] = it.key();
      (*it)["version"] = "2.0";
      auto task = build_task(*it, tpath, type);
      if (!task)
        return std::move(task).err();
      out.tasks.push_back(std::move(*task));
    }
    if (auto s = workflow_semantics(out, path); !s)
      return std::move(s).err();
    out.raw = v;
    return out;
  }

  // DirectWorkflowSpec.get_on_*_clause: the task's own clause, else the
  // task-defaults one without self-references.
  static std::vector<transition> clause_of(const workflow_spec& wf, const task_spec& t,
                                           std::optional<on_clause_spec> task_spec::*own,
                                           std::optional<on_clause_spec> task_defaults_spec::*def) {
    const auto& c = t.*own;
    if (c && !c->next.empty())
      return c->next;
    std::vector<transition> out;
    if (wf.task_defaults && (*wf.task_defaults.*def))
      for (const auto& tr : (*wf.task_defaults.*def)->next)
        if (tr.target != t.name)
          out.push_back(tr);
    return out;
  }

  static std::vector<std::string> outbound_names(const workflow_spec& wf, const task_spec& t) {
    std::vector<std::string> names;
    auto add = [&](const std::vector<transition>& ts) {
      for (const auto& tr : ts)
        if (std::find(names.begin(), names.end(), tr.target) == names.end())
          names.push_back(tr.target);
    };
    add(clause_of(wf, t, &task_spec::on_error, &task_defaults_spec::on_error));
    add(clause_of(wf, t, &task_spec::on_success, &task_defaults_spec::on_success));
    add(clause_of(wf, t, &task_spec::on_complete, &task_defaults_spec::on_complete));
    return names;
  }

  // Where a transition to `target` is written: the task's own clause, else
  // the task-defaults one.
  static path_t clause_path(const workflow_spec& wf, const task_spec& t, const std::string& target,
                            const path_t& path) {
    auto has = [&](const std::optional<on_clause_spec>& c) {
      return c && std::any_of(c->next.begin(), c->next.end(),
                              [&](const transition& tr) { return tr.target == target; });
    };
    struct slot {
      const char* key;
      const std::optional<on_clause_spec>* own;
      const std::optional<on_clause_spec>* def;
    };
    const task_defaults_spec* d = wf.task_defaults ? &*wf.task_defaults : nullptr;
    static const std::optional<on_clause_spec> none;
    slot slots[] = {{"on-error", &t.on_error, d ? &d->on_error : &none},
                    {"on-success", &t.on_success, d ? &d->on_success : &none},
                    {"on-complete", &t.on_complete, d ? &d->on_complete : &none}};
    for (const auto& sl : slots)
      if (has(*sl.own))
        return path + "tasks" + t.name + sl.key;
    for (const auto& sl : slots)
      if (has(*sl.def))
        return path + "task-defaults" + sl.key;
    return path + "tasks" + t.name;
  }

  status workflow_semantics(const workflow_spec& wf, const path_t& path) const {
    if (is_uuid_like(wf.name))
      return fail("Workflow name cannot be in the format of UUID.", path, "InvalidModelException");
    if (wf.type == workflow_type::reverse) {
      for (const auto& t : wf.tasks) {
        std::vector<std::string> reqs = t.requires_;
        if (wf.task_defaults)
          reqs.insert(reqs.end(), wf.task_defaults->requires_.begin(), wf.task_defaults->requires_.end());
        for (const auto& r : reqs)
          if (r != t.name && !wf.find_task(r))
            return fail("Task '" + r + "' not found.", path + "tasks" + t.name + "requires",
                        "InvalidModelException");
      }
      return ok_v;
    }
    std::vector<std::vector<std::string>> outbound;
    for (const auto& t : wf.tasks)
      outbound.push_back(outbound_names(wf, t));
    auto inbound_count = [&](const std::string& name) {
      std::size_t n = 0;
      for (const auto& out : outbound)
        n += std::find(out.begin(), out.end(), name) != out.end();
      return n;
    };
    bool has_start = false;
    for (const auto& t : wf.tasks)
      has_start = has_start || inbound_count(t.name) == 0;
    if (!has_start)
      return fail("Failed to find start tasks in direct workflow. There must be at least one task "
                  "without inbound transition.[workflow_name=" +
                    wf.name + "]",
                  path, "DSLParsingException");
    for (std::size_t i = 0; i < wf.tasks.size(); ++i)
      for (const auto& target : outbound[i])
        if (!wf.find_task(target) && !is_engine_command(target))
          return fail("Task '" + target + "' not found.", clause_path(wf, wf.tasks[i], target, path),
                      "InvalidModelException");
    std::string messages;
    path_t first_join;
    for (const auto& t : wf.tasks) {
      if (!py_truthy(t.join))
        continue;
      std::size_t in = inbound_count(t.name);
      std::string msg;
      if (t.join == json("all")) {
        if (in == 0)
          msg = "No inbound tasks for task with 'join: all' [task_name=" + t.name + "]";
      } else {
        json want = t.join == json("one") ? json(1) : t.join;
        double need = want.is_number() ? want.get<double>() : 0;
        if (static_cast<double>(in) < need)
          msg = "Not enough inbound tasks for task with 'join' [task_name=" + t.name +
                ", join=" + py_str(want) + ", inbound_tasks=" + std::to_string(in) + "]";
      }
      if (msg.empty())
        continue;
      if (messages.empty())
        first_join = path + "tasks" + t.name + "join";
      messages += (messages.empty() ? "" : "\n") + msg;
    }
    if (!messages.empty())
      return fail(messages, first_join, "InvalidModelException");
    return ok_v;
  }

  // -- actions -----------------------------------------------------------------

  result<action_spec> build_action(json& v, const path_t& path) const {
    if (auto s = check_schema(v, schemas::action(), path); !s)
      return std::move(s).err();
    auto cmd = parse_command(string_or_empty(get(v, "base")));
    if (!cmd)
      return fail(cmd.err().message, path + "base", "InvalidModelException");
    if (auto s = validate_expr(cmd->params, path + "base"); !s)
      return std::move(s).err();
    if (auto s = validate_expr_key(v, "base-input", path); !s)
      return std::move(s).err();
    if (const json& o = get(v, "output"); o.is_string())
      if (auto s = check_expression(o, path + "output"); !s)
        return std::move(s).err();
    action_spec out;
    out.name = string_or_empty(get(v, "name"));
    out.description = string_or_empty(get(v, "description"));
    out.tags = string_list(get(v, "tags"));
    out.base = cmd->command;
    out.input = input_entries(get(v, "input"));
    out.output = get(v, "output");
    if (!cmd->params.empty()) {
      if (v.contains("base-input") && v["base-input"].is_object())
        merge_dicts(v["base-input"], cmd->params);
      else
        out.base_input = cmd->params;
    }
    if (v.contains("base-input"))
      out.base_input = v["base-input"];
    out.raw = v;
    return out;
  }

  // -- documents ---------------------------------------------------------------

  // BaseListSpec: the list schema, at least one item, then each item with
  // `name` and `version` injected.
  template <class Item, class Build>
  result<std::vector<Item>> build_list(json& data, Build build) const {
    if (auto s = check_schema(data, schemas::workflow_list(), {}); !s)
      return std::move(s).err();
    if (data.size() < 2)
      return fail("At least one item must be in the list [data=" + py_repr(data) + "].", {},
                  "InvalidModelException");
    std::vector<Item> items;
    for (auto it = data.begin(); it != data.end(); ++it) {
      if (it.key() == "version")
        continue;
      (*it)["name"] = it.key();
      (*it)["version"] = "2.0";
      auto item = build(*it, path_t{it.key()});
      if (!item)
        return std::move(item).err();
      items.push_back(std::move(*item));
    }
    return items;
  }

  status check_version(const json& data) const {
    if (!data.is_object() || !data.contains("version"))
      return ok_v;
    const json& ver = data["version"];
    auto f = py_float(ver);
    if (!f || !py_truthy(ver) || *f != 2.0)
      return fail("Unsupported DSL version: " + py_str(ver), {"version"}, "DSLParsingException");
    return ok_v;
  }

  result<workbook_spec> build_workbook(json& data) const {
    if (auto s = check_version(data); !s)
      return std::move(s).err();
    if (data.contains("version") && data["version"] != json("2.0")) {
      // Quirk kept: get_workbook_spec compares the version with the string
      // '2.0', so a numeric 2 / 2.0 returns no spec and nothing is validated.
      workbook_spec out;
      out.validated = false;
      out.name = string_or_empty(get(data, "name"));
      out.raw = data;
      return out;
    }
    if (auto s = check_schema(data, schemas::workbook(), {}); !s)
      return std::move(s).err();
    for (const char* k : {"actions", "workflows"})
      if (data.contains(k) && data[k].is_object())
        data[k]["version"] = "2.0";
    workbook_spec out;
    out.name = string_or_empty(get(data, "name"));
    out.description = string_or_empty(get(data, "description"));
    out.tags = string_list(get(data, "tags"));
    if (data.contains("actions") && data["actions"].is_object()) {
      json& actions = data["actions"];
      for (auto it = actions.begin(); it != actions.end(); ++it) {
        if (it.key() == "version")
          continue;
        if (it->is_object()) {
          (*it)["name"] = it.key();
          (*it)["version"] = "2.0";
        }
        auto a = build_action(*it, {"actions", it.key()});
        if (!a)
          return std::move(a).err();
        out.actions.push_back(std::move(*a));
      }
    }
    if (data.contains("workflows") && data["workflows"].is_object()) {
      json& wfs = data["workflows"];
      for (auto it = wfs.begin(); it != wfs.end(); ++it) {
        if (it.key() == "version")
          continue;
        if (it->is_object()) {
          (*it)["name"] = it.key();
          (*it)["version"] = "2.0";
        }
        auto w = build_workflow(*it, {"workflows", it.key()});
        if (!w)
          return std::move(w).err();
        out.workflows.push_back(std::move(*w));
      }
    }
    out.raw = data;
    return out;
  }

private:
  const loaded_yaml* doc_;
};

} // namespace

namespace {

// Validates with timestamps kept as Python dates (so schemas reject them as
// Mistral does); a valid document is then built again with them as strings,
// the only form the engine and the API know.
template <class Spec, class Build>
result<Spec> run(std::string_view text, Build build) {
  auto doc = load_yaml(text);
  if (!doc)
    return std::move(doc).err();
  builder b(&*doc);
  json data = doc->value;
  auto spec = build(b, data);
  if (!spec || !doc->has_timestamps)
    return spec;
  timestamps_to_strings(doc->value);
  data = doc->value;
  return build(b, data);
}

template <class Item>
result<std::vector<Item>> build_items(const builder& b, json& data) {
  return b.build_list<Item>(data, [&](json& v, const path_t& p) {
    if constexpr (std::is_same_v<Item, workflow_spec>)
      return b.build_workflow(v, p);
    else
      return b.build_action(v, p);
  });
}

} // namespace

result<workflow_list_spec> validate_workflows(std::string_view text) {
  return run<workflow_list_spec>(text, [](const builder& b, json& data) -> result<workflow_list_spec> {
    auto items = build_items<workflow_spec>(b, data);
    if (!items)
      return std::move(items).err();
    return workflow_list_spec{std::move(*items), data};
  });
}

result<action_list_spec> validate_actions(std::string_view text) {
  return run<action_list_spec>(text, [](const builder& b, json& data) -> result<action_list_spec> {
    auto items = build_items<action_spec>(b, data);
    if (!items)
      return std::move(items).err();
    return action_list_spec{std::move(*items), data};
  });
}

result<workbook_spec> validate_workbook(std::string_view text) {
  return run<workbook_spec>(text, [](const builder& b, json& data) { return b.build_workbook(data); });
}

std::optional<error> check_workflow_input(const workflow_spec& spec, const json& actual) {
  std::vector<std::string> unexpected;
  if (actual.is_object())
    for (auto it = actual.begin(); it != actual.end(); ++it)
      unexpected.push_back(it.key());
  std::vector<std::string> missing;
  for (const auto& p : spec.input) {
    auto at = std::find(unexpected.begin(), unexpected.end(), p.name);
    if (!p.default_value && at == unexpected.end())
      missing.push_back(p.name);
    if (at != unexpected.end())
      unexpected.erase(at);
  }
  if (missing.empty() && unexpected.empty())
    return std::nullopt;
  auto list = [](const std::vector<std::string>& names) {
    json arr = json::array();
    for (const auto& n : names)
      arr.push_back(n);
    return py_repr(arr);
  };
  std::string msg = "Invalid input [name=" + spec.name + ", class=" +
                    (spec.type == workflow_type::direct ? "DirectWorkflowSpec" : "ReverseWorkflowSpec");
  if (!missing.empty())
    msg += ", missing=" + list(missing);
  if (!unexpected.empty())
    msg += ", unexpected=" + list(unexpected);
  return error{errc::invalid_input, msg + "]", "InputException"};
}

// engine/workflows.py::prepare_input: the given keys, then the defaults of
// the inputs not given, appended in spec order.
json input_with_defaults(const workflow_spec& spec, const json& actual) {
  json out = actual.is_object() ? actual : json::object();
  for (const auto& p : spec.input)
    if (!out.contains(p.name) && p.default_value)
      out[p.name] = *p.default_value;
  return out;
}

result<workflow_spec> workflow_from_raw(const json& raw) {
  builder b(nullptr);
  json data = raw;
  std::string name = raw.is_object() && raw.contains("name") && raw["name"].is_string()
                       ? raw["name"].get<std::string>()
                       : std::string();
  return b.build_workflow(data, {name});
}

result<std::shared_ptr<const workflow_spec>> shared_workflow_from_raw(const json& raw) {
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<const workflow_spec>> specs;
  constexpr std::size_t max_specs = 512;
  std::string key = raw.dump();
  {
    std::lock_guard lock(mutex);
    if (auto it = specs.find(key); it != specs.end())
      return it->second;
  }
  auto built = workflow_from_raw(raw);
  if (!built.ok())
    return std::move(built).err();
  auto spec = std::make_shared<const workflow_spec>(std::move(*built));
  std::lock_guard lock(mutex);
  if (specs.size() >= max_specs)
    specs.clear();
  specs.emplace(std::move(key), spec);
  return spec;
}

} // namespace mistral::dsl

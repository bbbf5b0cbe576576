#include "actors/workflow/expression_host.hpp"

#include "actors/workflow/machine.hpp"

namespace mistral::engine {

namespace {

std::string iso_time(timestamp t) {
  return format_time(t);
}

json task_spec_raw(const engine::execution& ex, const std::string& name) {
  if (!ex.spec || !ex.spec->raw.is_object())
    return nullptr;
  const auto& tasks = ex.spec->raw.value("tasks", json::object());
  return tasks.contains(name) ? tasks[name] : json(nullptr);
}

} // namespace

json expression_host::task_dict(const task_execution& t) const {
  json d = json::object();
  d["id"] = t.id;
  d["name"] = t.name;
  d["spec"] = task_spec_raw(ex_, t.name);
  d["state"] = to_string(t.st);
  d["state_info"] = t.state_info ? json(*t.state_info) : json(nullptr);
  d["result"] = task_result(ex_, t);
  d["published"] = t.published;
  d["type"] = t.type;
  d["workflow_execution_id"] = ex_.wf.id;
  d["created_at"] = iso_time(t.created_at);
  d["updated_at"] = t.updated_at ? json(iso_time(t.updated_at)) : json(nullptr);
  return d;
}

result<json> expression_host::task(const std::optional<std::string>& name) const {
  const task_execution* t = nullptr;
  if (!name || name->empty())
    t = current_;
  else
    t = ex_.last_task_named(*name);
  if (!t)
    return json(nullptr);
  return task_dict(*t);
}

result<json> expression_host::tasks(const expr::tasks_query& q) const {
  json out = json::array();
  if (q.workflow_execution_id && *q.workflow_execution_id != ex_.wf.id)
    return out; // other executions are not visible from here
  for (const auto& t : ex_.tasks) {
    if (q.state && *q.state != to_string(t.st))
      continue;
    out.push_back(task_dict(t));
  }
  return out;
}

result<json> expression_host::execution() const {
  json d = json::object();
  d["id"] = ex_.wf.id;
  d["name"] = ex_.wf.workflow_name;
  d["spec"] = ex_.spec ? ex_.spec->raw : json(nullptr);
  d["input"] = ex_.wf.input;
  d["params"] = ex_.wf.params;
  d["created_at"] = iso_time(ex_.wf.created_at);
  d["updated_at"] = ex_.wf.updated_at ? json(iso_time(ex_.wf.updated_at)) : json(nullptr);
  d["root_execution_id"] = ex_.wf.root_execution_id ? json(*ex_.wf.root_execution_id) : json(nullptr);
  return d;
}

result<json> expression_host::executions(const expr::executions_query&) const {
  json out = json::array();
  if (auto e = execution(); e.ok())
    out.push_back(*e);
  return out;
}

result<json> expression_host::global(const std::string& name) const {
  return ex_.wf.context.contains(name) ? ex_.wf.context[name] : json(nullptr);
}

} // namespace mistral::engine

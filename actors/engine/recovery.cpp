#include "actors/engine/recovery.hpp"

#include "actors/action/std_actions.hpp"
#include "persistence/execution_tables.hpp"

#include <algorithm>

namespace mistral::engine {

namespace {

using persistence::filter;
using persistence::filter_op;

bool is_terminal(const std::string& state) {
  return state == "SUCCESS" || state == "ERROR" || state == "CANCELLED";
}

void plan_action(const stored_action& a, std::vector<recovery_step>& out) {
  if (!a.is_sync)
    return; // an async action is completed from outside (PUT /v2/action_executions)
  const json* dispatch =
    a.params.is_object() && a.params.contains("dispatch") ? &a.params["dispatch"] : nullptr;
  // Instant actions (std.noop, std.echo, ...) have no effect outside: the
  // ones a big with-items left for a later chunk are simply run again.
  bool instant = dispatch && dispatch->is_object() && dispatch->contains("action") &&
                 (*dispatch)["action"].is_string() &&
                 action::is_instant_action((*dispatch)["action"].get<std::string>(),
                                           dispatch->value("input", json::object()));
  if (dispatch && (instant || dispatch->value("safe_rerun", false))) {
    out.push_back(rerun_action{a.execution_id, a.id, a.task_id, *dispatch});
    return;
  }
  out.push_back(complete_action{a.execution_id, a.id, 1, nullptr, json(interrupted_action_info)});
}

void plan_link(const stored_action& link, const recovery_input& in, std::vector<recovery_step>& out) {
  auto child = in.children.find(link.id);
  if (child == in.children.end()) {
    const json* start =
      link.params.is_object() && link.params.contains("start") ? &link.params["start"] : nullptr;
    if (start)
      out.push_back(restart_subworkflow{link.execution_id, link.id, link.task_id, *start});
    else
      out.push_back(complete_action{link.execution_id, link.id, 1, nullptr,
                                    json("The sub-workflow was never started and cannot be started again")});
    return;
  }
  const stored_child& c = child->second;
  if (!is_terminal(c.state))
    return; // it goes on by itself and reports when done
  int kind = c.state == "SUCCESS" ? 0 : c.state == "ERROR" ? 1 : 2;
  out.push_back(complete_action{link.execution_id, link.id, kind, c.output, c.state_info});
}

// Runs `fn` on `ids` in chunks, so that IN (...) lists stay short.
template <class Fn>
status in_chunks(const std::vector<std::string>& ids, Fn fn) {
  constexpr std::size_t chunk = 200;
  for (std::size_t i = 0; i < ids.size(); i += chunk) {
    std::vector<json> part(ids.begin() + i, ids.begin() + std::min(ids.size(), i + chunk));
    auto done = fn(std::move(part));
    if (!done.ok())
      return done;
  }
  return ok_v;
}

std::string text_of(const json& row, const char* column) {
  const json& v = row.contains(column) ? row[column] : json();
  return v.is_string() ? v.get<std::string>() : "";
}

// The state of each sub-workflow's parent execution, through its parent task.
status load_parent_states(persistence::database& db, const std::map<std::string, std::size_t>& by_parent_task,
                          std::vector<stored_execution>& executions) {
  std::vector<std::string> task_ids;
  for (const auto& [task, index] : by_parent_task)
    task_ids.push_back(task);
  std::map<std::string, std::vector<std::size_t>> by_parent; // parent execution id -> children
  auto tasks = in_chunks(task_ids, [&](std::vector<json> part) -> status {
    persistence::list_query q;
    q.filters = {filter{"id", filter_op::in, std::move(part)}};
    auto rows = db.list(persistence::task_executions_table(), q);
    if (!rows.ok())
      return std::move(rows).err();
    for (const auto& r : *rows)
      by_parent[text_of(r, "workflow_execution_id")].push_back(by_parent_task.at(text_of(r, "id")));
    return ok_v;
  });
  if (!tasks.ok())
    return tasks;
  std::vector<std::string> parent_ids;
  for (const auto& [parent, children] : by_parent)
    parent_ids.push_back(parent);
  return in_chunks(parent_ids, [&](std::vector<json> part) -> status {
    persistence::list_query q;
    q.filters = {filter{"id", filter_op::in, std::move(part)}};
    auto rows = db.list(persistence::workflow_executions_table(), q);
    if (!rows.ok())
      return std::move(rows).err();
    for (const auto& r : *rows)
      for (auto child : by_parent[text_of(r, "id")]) {
        executions[child].parent_state = text_of(r, "state");
        if (r["state_info"].is_string())
          executions[child].parent_info = r["state_info"].get<std::string>();
      }
    return ok_v;
  });
}

} // namespace

std::vector<recovery_step> plan_recovery(const recovery_input& in, timestamp now) {
  std::vector<recovery_step> out;
  for (const auto& ex : in.executions) {
    if (is_terminal(ex.state))
      continue;
    for (const auto& a : in.actions)
      if (a.execution_id == ex.id && a.state == "RUNNING" && !a.is_workflow)
        plan_action(a, out);
    for (const auto& a : in.actions)
      if (a.execution_id == ex.id && a.state == "RUNNING" && a.is_workflow)
        plan_link(a, in, out);
    for (const auto& t : in.timers)
      if (t.execution_id == ex.id)
        out.push_back(arm_timer{ex.id, t.task_id, t.kind, std::max<timestamp>(0, t.fire_at - now)});
    // The parent's control to its sub-workflows may have been lost.
    if (ex.parent_state == "CANCELLED")
      out.push_back(control_execution{ex.id, control_execution::kind::cancel, ex.parent_info});
    else if (ex.parent_state == "PAUSED" && ex.state == "RUNNING")
      out.push_back(control_execution{ex.id, control_execution::kind::pause, ex.parent_info});
  }
  return out;
}

namespace {

// The rest of the input for the unfinished executions `rows`.
result<recovery_input> load_for(persistence::database& db, const std::vector<persistence::record>& rows) {
  recovery_input in;
  std::vector<std::string> ids;
  std::map<std::string, std::size_t> by_parent_task; // parent task id -> index in in.executions
  for (const auto& r : rows) {
    if (r["task_execution_id"].is_string())
      by_parent_task[r["task_execution_id"].get<std::string>()] = in.executions.size();
    stored_execution ex;
    ex.id = text_of(r, "id");
    ex.state = text_of(r, "state");
    ex.workflow_namespace = text_of(r, "workflow_namespace");
    if (r["runtime_context"].is_object())
      ex.wb_name = r["runtime_context"].value("wb_name", "");
    ids.push_back(ex.id);
    in.executions.push_back(std::move(ex));
  }
  std::vector<std::string> link_ids;
  auto actions = in_chunks(ids, [&](std::vector<json> part) -> status {
    persistence::list_query q;
    q.filters = {filter{"workflow_execution_id", filter_op::in, std::move(part)},
                 filter{"state", filter_op::eq, {"RUNNING"}}};
    q.sort = {{"created_at", false}, {"id", false}};
    auto rows = db.list(persistence::action_executions_table(), q);
    if (!rows.ok())
      return std::move(rows).err();
    for (const auto& r : *rows) {
      stored_action a{
        text_of(r, "id"),         text_of(r, "workflow_execution_id"), text_of(r, "task_execution_id"),
        text_of(r, "state"),      r.value("is_workflow", false),       r.value("is_sync", true),
        r.value("params", json())};
      if (a.is_workflow)
        link_ids.push_back(a.id);
      in.actions.push_back(std::move(a));
    }
    return ok_v;
  });
  if (!actions.ok())
    return std::move(actions).err();
  auto timers = in_chunks(ids, [&](std::vector<json> part) -> status {
    persistence::list_query q;
    q.filters = {filter{"workflow_execution_id", filter_op::in, std::move(part)}};
    q.sort = {{"fire_at", false}, {"id", false}};
    auto rows = db.list(persistence::delayed_calls_table(), q);
    if (!rows.ok())
      return std::move(rows).err();
    for (const auto& r : *rows) {
      int kind = 0;
      try {
        kind = std::stoi(text_of(r, "kind"));
      } catch (...) {
        continue; // not a timer this engine wrote
      }
      in.timers.push_back({text_of(r, "id"), text_of(r, "workflow_execution_id"),
                           text_of(r, "task_execution_id"), kind, r.value("fire_at", timestamp{0})});
    }
    return ok_v;
  });
  if (!timers.ok())
    return std::move(timers).err();
  auto parents = load_parent_states(db, by_parent_task, in.executions);
  if (!parents.ok())
    return std::move(parents).err();
  auto children = in_chunks(link_ids, [&](std::vector<json> part) -> status {
    persistence::list_query q;
    q.filters = {filter{"id", filter_op::in, std::move(part)}};
    auto rows = db.list(persistence::workflow_executions_table(), q);
    if (!rows.ok())
      return std::move(rows).err();
    for (const auto& r : *rows)
      in.children[text_of(r, "id")] = {text_of(r, "state"), r.value("output", json()),
                                       r.value("state_info", json())};
    return ok_v;
  });
  if (!children.ok())
    return std::move(children).err();
  return in;
}

} // namespace

result<recovery_input> load_recovery_input(persistence::database& db) {
  persistence::list_query wq;
  wq.filters = {filter{"state", filter_op::nin, {"SUCCESS", "ERROR", "CANCELLED"}}};
  wq.sort = {{"created_at", false}, {"id", false}};
  auto executions = db.list(persistence::workflow_executions_table(), wq);
  if (!executions.ok())
    return std::move(executions).err();
  return load_for(db, *executions);
}

result<recovery_input> load_recovery_input(persistence::database& db, const std::vector<std::string>& ids) {
  std::vector<persistence::record> rows;
  auto read = in_chunks(ids, [&](std::vector<json> part) -> status {
    persistence::list_query wq;
    wq.filters = {filter{"id", filter_op::in, std::move(part)},
                  filter{"state", filter_op::nin, {"SUCCESS", "ERROR", "CANCELLED"}}};
    auto found = db.list(persistence::workflow_executions_table(), wq);
    if (!found.ok())
      return std::move(found).err();
    for (auto& r : *found)
      rows.push_back(std::move(r));
    return ok_v;
  });
  if (!read.ok())
    return std::move(read).err();
  // The order a restart uses: oldest first.
  std::sort(rows.begin(), rows.end(), [](const persistence::record& a, const persistence::record& b) {
    auto ka = std::make_pair(a.value("created_at", timestamp{0}), a.value("id", std::string()));
    auto kb = std::make_pair(b.value("created_at", timestamp{0}), b.value("id", std::string()));
    return ka < kb;
  });
  return load_for(db, rows);
}

} // namespace mistral::engine

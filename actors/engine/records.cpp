#include "actors/engine/records.hpp"

#include "dsl/parser.hpp"
#include "persistence/execution_tables.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <type_traits>

namespace mistral::engine {

namespace {

std::optional<timestamp> time_or_null(timestamp t) {
  return t ? std::optional<timestamp>(t) : std::nullopt;
}

std::optional<std::string> opt_string(const json& v) {
  return v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
}

constexpr const char* default_project = "<default-project>";

const json& empty_list() {
  static const json list = json::array();
  return list;
}

/// Builds a record column by column. The columns are distinct, so they are
/// appended to slots reserved once, without ordered_map's search for a
/// duplicate key per column nor the two-element array per column of an
/// initializer list.
class record_builder {
public:
  record_builder(const persistence::table_def&, std::size_t columns) { slots().reserve(columns); }
  template <class V>
  record_builder& operator()(const char* column, V&& value) {
    using plain = std::remove_cvref_t<V>;
    if constexpr (std::is_same_v<plain, std::optional<std::string>> ||
                  std::is_same_v<plain, std::optional<timestamp>>)
      slots().emplace_back(column, value ? json(*value) : json(nullptr));
    else
      slots().emplace_back(column, json(std::forward<V>(value)));
    return *this;
  }
  persistence::record take() { return std::move(row_); }

private:
  json::object_t& slots() { return row_.get_ref<json::object_t&>(); }
  persistence::record row_ = json::object();
};

/// Builds the packed row (persistence/packed_row.hpp) of a write.
class packed_builder {
public:
  packed_builder(const persistence::table_def& t, std::size_t) : row_(t) {}
  template <class V>
  packed_builder& operator()(const char* column, V&& value) {
    row_.set(column, std::forward<V>(value));
    return *this;
  }
  persistence::packed_row take() { return std::move(row_); }

private:
  persistence::packed_row row_;
};

json next_tasks_of(const task_execution& t) {
  json next = json::array();
  next.get_ref<json::array_t&>().reserve(t.next_tasks.size());
  for (const auto& [name, ev] : t.next_tasks)
    next.push_back(json::array({name, ev}));
  return next;
}

// The columns that change after a row is created, and those NOT NULL without
// a default (created_at, a task's workflow_execution_id): an upsert's row must
// be insertable even when it updates (SQLite and PostgreSQL check NOT NULL
// first). The others (names, spec, input, ...) are written once, with the
// whole row. An action row has one slot more, for the dispatch (`params`).
constexpr std::size_t wf_changing = 9, task_changing = 15, action_changing = 8;

template <class Builder>
void wf_changes(Builder& b, const workflow_execution& wf) {
  b("id", wf.id)("state", to_string(wf.st))("state_info", wf.state_info)("output", wf.output)(
    "params", wf.params)("context", wf.context)("runtime_context", wf.runtime_context)(
    "updated_at", time_or_null(wf.updated_at))("created_at", wf.created_at);
}

template <class Builder>
void task_changes(Builder& b, const task_execution& t, const workflow_execution& wf) {
  b("id", t.id)("state", to_string(t.st))("state_info", t.state_info)("in_context", t.in_context)(
    "published", t.published)("runtime_context", t.runtime_context)("processed", t.processed)(
    "error_handled", t.error_handled)("has_next_tasks", t.has_next_tasks)("next_tasks", next_tasks_of(t))(
    "updated_at", time_or_null(t.updated_at))("started_at", t.started_at)("finished_at", t.finished_at)(
    "created_at", t.created_at)("workflow_execution_id", wf.id);
}

template <class Builder>
void action_changes(Builder& b, const action_execution& a) {
  b("id", a.id)("state", to_string(a.st))("state_info", a.state_info)("accepted", a.accepted)(
    "output", a.output)("updated_at", time_or_null(a.updated_at))("created_at", a.created_at);
}

// Without `spec_raw`, the whole row but its spec.
template <class Builder>
auto wf_row(const workflow_execution& wf, bool whole, const json* spec_raw) {
  Builder b(persistence::workflow_executions_table(), wf_changing + (whole ? 11 : 0));
  wf_changes(b, wf);
  if (!whole)
    return b.take();
  b("name", wf.workflow_name)("workflow_name", wf.workflow_name)("workflow_id", wf.workflow_id)(
    "workflow_namespace", wf.workflow_namespace)("description", wf.description)("tags", wf.tags);
  if (spec_raw)
    b("spec", *spec_raw);
  b("input", wf.input)("task_execution_id", wf.task_execution_id)("root_execution_id", wf.root_execution_id)(
    "project_id", default_project);
  return b.take();
}

template <class Builder>
auto task_row(const task_execution& t, const workflow_execution& wf, bool whole) {
  Builder b(persistence::task_executions_table(), task_changing + (whole ? 8 : 0));
  task_changes(b, t, wf);
  if (whole)
    b("name", t.name)("type", t.type)("workflow_name", wf.workflow_name)(
      "workflow_namespace", wf.workflow_namespace)("workflow_id", wf.workflow_id)(
      "unique_key", t.unique_key.empty() ? std::nullopt : std::optional<std::string>(t.unique_key))(
      "tags", empty_list())("project_id", default_project);
  return b.take();
}

template <class Builder>
auto action_row(const action_execution& a, const task_execution* t, const workflow_execution& wf,
                bool whole) {
  Builder b(persistence::action_executions_table(), action_changing + (whole ? 13 : 0));
  action_changes(b, a);
  if (whole)
    b("name", a.name)("workflow_name", wf.workflow_name)("workflow_namespace", wf.workflow_namespace)(
      "task_name", t ? std::optional<std::string>(t->name) : std::nullopt)("task_execution_id", a.task_id)(
      "workflow_execution_id", wf.id)("is_workflow", a.is_workflow)("is_sync", a.is_sync)("input", a.input)(
      "idx", a.index)("description", "")("tags", empty_list())("project_id", default_project);
  return b.take();
}

} // namespace

persistence::record to_record(const workflow_execution& wf, const json& spec_raw) {
  return wf_row<record_builder>(wf, true, &spec_raw);
}

std::string answer_row_text(const workflow_execution& wf) {
  return wf_row<record_builder>(wf, true, nullptr).dump();
}

persistence::record to_record(const task_execution& t, const workflow_execution& wf) {
  return task_row<record_builder>(t, wf, true);
}

persistence::record to_record(const action_execution& a, const task_execution* t,
                              const workflow_execution& wf) {
  return action_row<record_builder>(a, t, wf, true);
}

namespace {

// What recovery needs to send a started action or sub-workflow again.
json dispatch_of(const cmd_run_action& r, const execution& ex) {
  return {{"dispatch",
           {{"action", r.action},
            {"input", r.input},
            {"target", r.target},
            {"safe_rerun", r.safe_rerun},
            {"timeout", r.timeout},
            {"workflow_name", ex.wf.workflow_name}}}};
}

json dispatch_of(const cmd_start_subworkflow& s, const execution& ex) {
  return {{"start",
           {{"workflow_name", s.workflow_name},
            {"namespace", s.workflow_namespace},
            {"input", s.input},
            {"params", s.params},
            {"wb_name", ex.wf.runtime_context.value("wb_name", std::string())}}}};
}

persistence::write_op timer_write(const execution& ex, const cmd_schedule_timer& t, timestamp now) {
  auto delay = static_cast<timestamp>(t.delay_seconds * 1e6);
  return {persistence::write_op::kind::upsert,
          &persistence::delayed_calls_table(),
          {{"id", timer_id(t.task_id, static_cast<int>(t.kind))},
           {"workflow_execution_id", ex.wf.id},
           {"task_execution_id", t.task_id},
           {"kind", std::to_string(static_cast<int>(t.kind))},
           {"fire_at", now + delay},
           {"created_at", now}},
          {}};
}

// An action row's `params` (an action_row has none).
void add_dispatch(persistence::packed_row& row, const json& dispatch) {
  row.set("params", dispatch);
}

} // namespace

std::string timer_id(const std::string& task_id, int kind) {
  return task_id + ":" + std::to_string(kind);
}

std::vector<persistence::write_op> writes_for(execution& ex, const decision& d, timestamp now) {
  using persistence::write_op;
  std::vector<write_op> ops;
  ops.reserve((d.wf_dirty ? 1 : 0) + d.dirty_tasks.size() + d.dirty_actions.size());
  static const json no_spec;
  if (d.wf_dirty) {
    const json* spec = ex.spec ? &ex.spec->raw : &no_spec;
    ops.push_back({write_op::kind::upsert,
                   &persistence::workflow_executions_table(),
                   nullptr,
                   {},
                   wf_row<packed_builder>(ex.wf, !ex.wf.stored, spec)});
    ex.wf.stored = true;
  }
  for (const auto& id : d.dirty_tasks)
    if (auto* t = ex.find_task(id)) {
      ops.push_back({write_op::kind::upsert,
                     &persistence::task_executions_table(),
                     nullptr,
                     {},
                     task_row<packed_builder>(*t, ex.wf, !t->stored)});
      t->stored = true;
    }
  std::map<std::string, std::size_t> action_op;
  for (const auto& id : d.dirty_actions) {
    auto it = ex.actions.find(id);
    if (it == ex.actions.end())
      continue; // links to sub-workflows are stored too (is_workflow), hidden from the API
    auto& a = it->second;
    action_op[id] = ops.size();
    ops.push_back(
      {write_op::kind::upsert,
       &persistence::action_executions_table(),
       nullptr,
       {},
       action_row<packed_builder>(a, a.stored ? nullptr : ex.find_task(a.task_id), ex.wf, !a.stored)});
    a.stored = true;
  }
  // The outbox: how to send again what this decision starts, and its timers.
  for (const auto& c : d.commands) {
    if (const auto* r = std::get_if<cmd_run_action>(&c)) {
      if (auto it = action_op.find(r->action_id); it != action_op.end())
        add_dispatch(ops[it->second].packed, dispatch_of(*r, ex));
    } else if (const auto* s = std::get_if<cmd_start_subworkflow>(&c)) {
      if (auto it = action_op.find(s->execution_id); it != action_op.end())
        add_dispatch(ops[it->second].packed, dispatch_of(*s, ex));
    } else if (const auto* t = std::get_if<cmd_schedule_timer>(&c)) {
      ops.push_back(timer_write(ex, *t, now));
    }
  }
  return ops;
}

result<execution> load_execution(persistence::database& db, const std::string& id) {
  using persistence::filter;
  using persistence::filter_op;
  auto wf_row = db.find_one(persistence::workflow_executions_table(), {filter{"id", filter_op::eq, {id}}});
  if (!wf_row.ok())
    return std::move(wf_row).err();
  if (!wf_row->has_value())
    return error(errc::not_found, "Workflow execution not found [id=" + id + "]");
  const auto& r = **wf_row;
  execution ex;
  auto& wf = ex.wf;
  wf.id = id;
  wf.workflow_name = r.value("workflow_name", "");
  wf.workflow_id = r.value("workflow_id", "");
  wf.workflow_namespace = r.value("workflow_namespace", "");
  wf.description = r["description"].is_string() ? r["description"].get<std::string>() : "";
  wf.tags = r["tags"].is_array() ? r["tags"] : json::array();
  wf.st = state_from_string(r.value("state", "IDLE")).value_or(state::idle);
  wf.state_info = opt_string(r["state_info"]);
  wf.input = r["input"].is_object() ? r["input"] : json::object();
  wf.output = r["output"].is_object() ? r["output"] : json::object();
  wf.params = r["params"].is_object() ? r["params"] : json::object();
  wf.context = r["context"].is_object() ? r["context"] : json::object();
  wf.runtime_context = r["runtime_context"].is_object() ? r["runtime_context"] : json::object();
  wf.task_execution_id = opt_string(r["task_execution_id"]);
  wf.root_execution_id = opt_string(r["root_execution_id"]);
  wf.created_at = r.value("created_at", timestamp{0});
  wf.updated_at = r["updated_at"].is_number() ? r["updated_at"].get<timestamp>() : 0;
  wf.stored = true;
  auto spec = dsl::shared_workflow_from_raw(r["spec"]);
  if (!spec.ok())
    return std::move(spec).err();
  ex.spec = *spec;

  persistence::list_query tq;
  tq.filters = {filter{"workflow_execution_id", filter_op::eq, {id}}};
  tq.sort = {{"created_at", false}, {"id", false}};
  auto tasks = db.list(persistence::task_executions_table(), tq);
  if (!tasks.ok())
    return std::move(tasks).err();
  for (const auto& tr : *tasks) {
    task_execution t;
    t.id = tr["id"];
    t.name = tr["name"];
    t.type = tr.value("type", "ACTION");
    t.st = state_from_string(tr.value("state", "IDLE")).value_or(state::idle);
    t.state_info = opt_string(tr["state_info"]);
    t.in_context = tr["in_context"].is_object() ? tr["in_context"] : json::object();
    t.published = tr["published"].is_object() ? tr["published"] : json::object();
    t.runtime_context = tr["runtime_context"].is_object() ? tr["runtime_context"] : json::object();
    t.processed = tr.value("processed", false);
    t.error_handled = tr.value("error_handled", false);
    t.has_next_tasks = tr.value("has_next_tasks", false);
    if (tr["next_tasks"].is_array())
      for (const auto& n : tr["next_tasks"])
        if (n.is_array() && n.size() == 2)
          t.next_tasks.emplace_back(n[0].get<std::string>(), n[1].is_string() ? n[1].get<std::string>() : "");
    t.unique_key = tr["unique_key"].is_string() ? tr["unique_key"].get<std::string>() : "";
    t.created_at = tr.value("created_at", timestamp{0});
    t.updated_at = tr["updated_at"].is_number() ? tr["updated_at"].get<timestamp>() : 0;
    if (tr["started_at"].is_number())
      t.started_at = tr["started_at"].get<timestamp>();
    if (tr["finished_at"].is_number())
      t.finished_at = tr["finished_at"].get<timestamp>();
    t.stored = true;
    ex.tasks.push_back(std::move(t));
  }

  persistence::list_query aq;
  aq.filters = {filter{"workflow_execution_id", filter_op::eq, {id}}};
  auto actions = db.list(persistence::action_executions_table(), aq);
  if (!actions.ok())
    return std::move(actions).err();
  for (const auto& ar : *actions) {
    action_execution a;
    a.id = ar["id"];
    a.task_id = ar.value("task_execution_id", "");
    a.name = ar.value("name", "");
    a.st = state_from_string(ar.value("state", "RUNNING")).value_or(state::running);
    a.state_info = opt_string(ar["state_info"]);
    a.accepted = ar.value("accepted", true);
    a.is_workflow = ar.value("is_workflow", false);
    a.is_sync = ar.value("is_sync", true);
    a.input = ar["input"];
    a.output = ar["output"];
    a.index = static_cast<int>(ar.value("idx", 0LL));
    a.created_at = ar.value("created_at", timestamp{0});
    a.updated_at = ar["updated_at"].is_number() ? ar["updated_at"].get<timestamp>() : 0;
    a.stored = true;
    ex.actions.emplace(a.id, std::move(a));
  }
  // A task's executions in creation order, from the action rows (the task
  // row does not repeat the list: a with-items task rewrote all of its ids
  // at every commit, quadratic over 100,000 items).
  std::vector<const action_execution*> ordered;
  ordered.reserve(ex.actions.size());
  for (const auto& [aid, a] : ex.actions)
    ordered.push_back(&a);
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto* x, const auto* y) {
    return x->created_at != y->created_at ? x->created_at < y->created_at : x->id < y->id;
  });
  for (const auto* a : ordered)
    if (auto* t = ex.find_task(a->task_id))
      t->executions.push_back(a->id);
  return ex;
}

} // namespace mistral::engine

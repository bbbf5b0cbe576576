#include "api/executions_controller.hpp"

#include "actors/action/catalog.hpp"
#include "actors/action/std_actions.hpp"
#include "actors/engine/records.hpp"
#include "actors/engine/start_request.hpp"
#include "actors/protocol.hpp"
#include "actors/workflow/field_size.hpp"
#include "actors/workflow/machine.hpp"
#include "api/action_runs.hpp"
#include "api/listing.hpp"
#include "api/rest.hpp"
#include "common/py_json.hpp"
#include "common/uuid.hpp"
#include "dsl/expr/py_value.hpp"
#include "dsl/parser.hpp"
#include "persistence/definition_stores.hpp"
#include "persistence/execution_tables.hpp"
#include "persistence/lease_tables.hpp"

#include <atomic>

namespace mistral::api {

namespace {

using persistence::filter;
using persistence::filter_op;
using persistence::record;

// ---- resource shapes -------------------------------------------------------

json json_string(const json& v) {
  return v.is_null() ? json(nullptr) : json(python_json_dumps(v));
}

json published_global(const record& r) {
  json out = json::object();
  const json& ctx = r["context"];
  json vars = r["spec"].is_object() ? r["spec"].value("vars", json::object()) : json::object();
  if (ctx.is_object())
    for (auto it = ctx.begin(); it != ctx.end(); ++it)
      if (it.key() != "__execution" && it.key() != "openstack" &&
          !(vars.is_object() && vars.contains(it.key())))
        out[it.key()] = it.value();
  return out;
}

// A column of `r`, null when the row was read without it (a listing with
// fields= reads only the columns of the fields asked for).
const json& col(const record& r, const char* name) {
  static const json absent;
  auto it = r.find(name);
  return it == r.end() ? absent : *it;
}

json execution_resource(const record& r, bool with_output, bool with_published) {
  json out = json::object();
  out["id"] = col(r, "id");
  out["workflow_id"] = col(r, "workflow_id");
  out["workflow_name"] = col(r, "workflow_name");
  out["workflow_namespace"] = col(r, "workflow_namespace");
  out["description"] = col(r, "description").is_null() ? json("") : col(r, "description");
  out["tags"] = col(r, "tags").is_array() ? col(r, "tags") : json::array();
  out["params"] = json_string(col(r, "params"));
  out["task_execution_id"] = col(r, "task_execution_id");
  out["root_execution_id"] = col(r, "root_execution_id");
  out["state"] = col(r, "state");
  out["state_info"] = col(r, "state_info");
  out["input"] = json_string(col(r, "input"));
  if (with_output)
    out["output"] = json_string(col(r, "output").is_null() ? json::object() : col(r, "output"));
  out["created_at"] = time_field(col(r, "created_at"));
  out["updated_at"] = time_field(col(r, "updated_at"));
  out["project_id"] = col(r, "project_id").is_null() ? json(default_project) : col(r, "project_id");
  if (with_published)
    out["published_global"] = json_string(published_global(r));
  return out;
}

json task_result_of(persistence::database& db, const record& t);

json task_resource(persistence::database& db, const record& r, bool with_result) {
  json out = json::object();
  out["id"] = r["id"];
  out["name"] = r["name"];
  out["type"] = r["type"];
  out["workflow_name"] = r["workflow_name"];
  out["workflow_namespace"] = r["workflow_namespace"];
  out["workflow_id"] = r["workflow_id"];
  out["workflow_execution_id"] = r["workflow_execution_id"];
  out["tags"] = r["tags"].is_array() ? r["tags"] : json::array();
  out["state"] = r["state"];
  out["state_info"] = r["state_info"];
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  json runtime_context = r["runtime_context"];
  if (runtime_context.is_object())
    runtime_context.erase(engine::published_global_key);
  out["runtime_context"] = json_string(runtime_context);
  if (with_result)
    out["result"] = python_json_dumps(task_result_of(db, r));
  out["published"] = json_string(r["published"]);
  out["processed"] = r["processed"];
  out["created_at"] = time_field(r["created_at"]);
  out["updated_at"] = time_field(r["updated_at"]);
  out["started_at"] = time_field(r["started_at"]);
  out["finished_at"] = time_field(r["finished_at"]);
  return out;
}

/// Mistral accepts an action execution when its result arrives: one still
/// running (an async action, say) is shown not accepted.
json shown_accepted(const record& r) {
  const json& st = r["state"];
  bool completed = st == "SUCCESS" || st == "ERROR" || st == "CANCELLED";
  return r["accepted"].is_boolean() && !completed ? json(false) : r["accepted"];
}

json action_resource(const record& r, bool with_output) {
  json out = json::object();
  out["id"] = r["id"];
  out["workflow_name"] = r["workflow_name"];
  out["workflow_namespace"] = r["workflow_namespace"];
  out["task_name"] = r["task_name"];
  out["task_execution_id"] = r["task_execution_id"];
  out["state"] = r["state"];
  out["state_info"] = r["state_info"];
  out["tags"] = nullptr;
  out["name"] = r["name"];
  bool in_task = r["task_execution_id"].is_string();
  out["description"] = r["description"].is_null() && in_task ? json("") : r["description"];
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["accepted"] = shown_accepted(r);
  out["input"] = json_string(r["input"]);
  if (with_output)
    out["output"] = json_string(r["output"].is_null() ? json::object() : r["output"]);
  out["created_at"] = time_field(r["created_at"]);
  out["updated_at"] = time_field(r["updated_at"]);
  return out;
}

/// The task result from its executions, as Mistral's get_task_execution_result.
json task_result_of(persistence::database& db, const record& t) {
  auto ex = engine::load_execution(db, t.value("workflow_execution_id", ""));
  if (!ex.ok())
    return nullptr;
  const auto* task = ex->find_task(t.value("id", ""));
  return task ? engine::task_result(*ex, *task) : json(nullptr);
}

// ---- listings ----------------------------------------------------------------

const listing_spec& executions_listing() {
  static const listing_spec spec{"executions",
                                 {"id", "workflow_id", "workflow_name", "workflow_namespace", "description",
                                  "tags", "params", "task_execution_id", "root_execution_id", "state",
                                  "state_info", "input", "output", "created_at", "updated_at", "project_id",
                                  "published_global"},
                                 {"workflow_name", "workflow_id", "workflow_namespace", "description",
                                  "params", "task_execution_id", "root_execution_id", "state", "state_info",
                                  "input", "output", "created_at", "updated_at", "project_id", "id"},
                                 {"include_output", "all_projects", "nulls"},
                                 {"tags"},
                                 "created_at",
                                 "asc"};
  return spec;
}

const listing_spec& tasks_listing() {
  static const listing_spec spec{
    "tasks",
    {"id", "name", "type", "workflow_name", "workflow_namespace", "workflow_id", "workflow_execution_id",
     "tags", "state", "state_info", "project_id", "runtime_context", "result", "published", "processed",
     "created_at", "updated_at", "started_at", "finished_at"},
    {"name", "workflow_name", "workflow_id", "workflow_execution_id", "state", "state_info", "published",
     "processed", "created_at", "updated_at", "type", "id"},
    {"reset", "env", "result"},
    {"tags"},
    "created_at",
    "asc"};
  return spec;
}

const listing_spec& actions_listing() {
  static const listing_spec spec{
    "action_executions",
    {"id", "workflow_name", "workflow_namespace", "task_name", "task_execution_id", "state", "state_info",
     "tags", "name", "description", "project_id", "accepted", "input", "output", "created_at", "updated_at"},
    {"name", "workflow_name", "task_name", "task_execution_id", "state", "state_info", "accepted", "input",
     "output", "description", "created_at", "updated_at", "id"},
    {"include_output", "params"},
    {"tags"},
    "created_at",
    "asc"};
  return spec;
}

bool flag(const http_request& req, const std::string& name) {
  auto v = req.query_value(name);
  return v && (*v == "true" || *v == "True" || *v == "1");
}

// ---- executions ---------------------------------------------------------------

result<std::optional<record>> find_execution(api_context& ctx, const std::string& id) {
  return ctx.db->find_one(persistence::workflow_executions_table(), {filter{"id", filter_op::eq, {id}}});
}

http_response execution_not_found(const std::string& id) {
  return wsme_fault(404, "WorkflowExecution not found [id=" + id + "]");
}

/// GET shows published_global; a PUT answers without it (Mistral's put
/// returns Execution.from_dict of the row, its get adds the field).
http_response get_execution(api_context& ctx, const std::string& id, bool with_published = true) {
  auto row = find_execution(ctx, id);
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return execution_not_found(id);
  return json_response(200, execution_resource(**row, true, with_published));
}

http_response list_executions(api_context& ctx, const http_request& req, std::vector<filter> extra = {}) {
  auto l = parse_listing(req, executions_listing());
  if (!l.ok())
    return wsme_fault(l.err());
  if (auto nulls = req.query_value("nulls")) {
    std::size_t start = 0;
    while (start <= nulls->size()) {
      auto comma = nulls->find(',', start);
      if (comma == std::string::npos)
        comma = nulls->size();
      if (comma > start)
        l->query.filters.push_back(filter{nulls->substr(start, comma - start), filter_op::is_null, {}});
      start = comma + 1;
    }
  }
  for (auto& f : extra)
    l->query.filters.push_back(std::move(f));
  // fields=: read only their columns (each field of a listed execution is
  // the column of its name), not the spec, context, input and output of
  // every row. select_fields drops the fields built from absent columns.
  for (const auto& f : l->fields)
    if (persistence::workflow_executions_table().find(f))
      l->query.columns.push_back(f);
  auto rows = ctx.db->list(persistence::workflow_executions_table(), l->query);
  if (!rows.ok())
    return wsme_fault(rows.err());
  bool with_output = flag(req, "include_output");
  json items = json::array();
  for (const auto& r : *rows)
    items.push_back(select_fields(execution_resource(r, with_output, false), *l));
  return json_response(200, collection_body(executions_listing(), *l, std::move(items), req.host_url()));
}

void create_execution(api_context& ctx, const http_request& req, responder respond) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return respond(wsme_fault(body.err()));
  if (!body->is_object())
    return respond(wsme_fault(400, "Invalid input for field/attribute wf_ex."));
  if (body->contains("id") && (*body)["id"].is_string()) {
    auto existing = find_execution(ctx, (*body)["id"]);
    if (existing.ok() && existing->has_value())
      return respond(json_response(201, execution_resource(**existing, true, false)));
  }
  for (const char* field : {"id", "workflow_id", "workflow_name", "workflow_namespace", "description"})
    if (auto bad = text_field_error(*body, field))
      return respond(wsme_fault(*bad));
  if (!(body->contains("workflow_id") || body->contains("workflow_name")))
    return respond(
      wsme_fault(400, "Workflow ID or workflow name must be provided. Workflow ID is recommended."));
  auto input = json_type_field(body->value("input", json::object()), "input");
  auto params = json_type_field(body->value("params", json::object()), "params");
  if (!input.ok())
    return respond(wsme_fault(input.err()));
  if (!params.ok())
    return respond(wsme_fault(params.err()));
  engine::start_request request;
  request.input = input->is_object() ? *input : json::object();
  request.params = params->is_object() ? *params : json::object();
  json ns_field = body->value("workflow_namespace", json(nullptr));
  if (ns_field.is_null())
    ns_field = request.params.value("namespace", json(""));
  request.workflow_namespace = ns_field.is_string() ? ns_field.get<std::string>() : expr::py_str(ns_field);
  if (body->contains("workflow_id") && (*body)["workflow_id"].is_string())
    request.workflow_id = (*body)["workflow_id"];
  else
    request.workflow_name = body->value("workflow_name", "");
  if (body->contains("id") && (*body)["id"].is_string())
    request.execution_id = (*body)["id"];
  request.description =
    body->value("description", json("")).is_string() ? body->value("description", "") : "";
  // Mistral's engine refuses an oversized input or params (400).
  request.field_size_limit_kb =
    ctx.cfg ? ctx.cfg->get_int("engine", "execution_field_size_limit_kb", 1024) : 1024;
  auto start = engine::build_start_execution(ctx.db, request);
  if (!start.ok())
    return respond(wsme_fault(start.err()));
  if (!ctx.engine)
    return respond(wsme_fault(500, "The engine is not available on this node"));
  ctx.engine->start(*start, [respond](result<std::string> row) {
    if (!row.ok())
      return respond(wsme_fault(500, row.err().message));
    respond(json_response(201, execution_resource(json::parse(*row, nullptr, false), true, false)));
  });
}

void update_execution(api_context& ctx, const http_request& req, const std::string& id, responder respond) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return respond(wsme_fault(body.err()));
  auto row = find_execution(ctx, id);
  if (!row.ok())
    return respond(wsme_fault(row.err()));
  if (!row->has_value())
    return respond(execution_not_found(id));
  bool has_state = body->contains("state") && !(*body)["state"].is_null();
  bool has_desc = body->contains("description") && !(*body)["description"].is_null();
  json params = body->value("params", json(nullptr));
  if (params.is_string())
    params = json::parse(params.get<std::string>(), nullptr, false);
  bool has_env = params.is_object() && params.contains("env");
  if (!has_state && !has_desc && !has_env)
    return respond(wsme_fault(400, "The property state, description, or env is not provided for update."));
  if (has_desc && has_state)
    return respond(wsme_fault(400, "The property description must be updated separately from state."));
  if (has_desc) {
    auto done = ctx.db->update(persistence::workflow_executions_table(), {filter{"id", filter_op::eq, {id}}},
                               {{"description", (*body)["description"]}});
    if (!done.ok())
      return respond(wsme_fault(done.err()));
    return respond(get_execution(ctx, id, false));
  }
  std::string current = (**row).value("state", "");
  if (!has_state) {
    if (current != "IDLE" && current != "PAUSED" && current != "ERROR")
      return respond(wsme_fault(403, "Updating env to workflow execution is only permitted if it is in IDLE, "
                                     "PAUSED, or ERROR state."));
    json new_params = (**row)["params"];
    json env = new_params.value("env", json::object());
    for (auto it = params["env"].begin(); it != params["env"].end(); ++it)
      env[it.key()] = it.value();
    new_params["env"] = env;
    auto done = ctx.db->update(persistence::workflow_executions_table(), {filter{"id", filter_op::eq, {id}}},
                               {{"params", new_params}});
    if (!done.ok())
      return respond(wsme_fault(done.err()));
    return respond(get_execution(ctx, id, false));
  }
  std::string target = (*body)["state"].is_string() ? (*body)["state"].get<std::string>() : "";
  static const std::vector<std::string> allowed = {"RUNNING", "PAUSED", "SUCCESS", "ERROR", "CANCELLED"};
  if (std::find(allowed.begin(), allowed.end(), target) == allowed.end())
    return respond(wsme_fault(400, "Cannot change state to " + target +
                                     ". Allowed states are: 'RUNNING, PAUSED, SUCCESS, ERROR, CANCELLED"));
  auto from = engine::state_from_string(current);
  auto to = engine::state_from_string(target);
  if (from && to && !engine::is_valid_transition(*from, *to) && !(target == "RUNNING" && current != "PAUSED"))
    return respond(wsme_fault(400, "Can't change workflow execution state from " + current + " to " + target +
                                     ". [workflow=" + (**row).value("workflow_name", "") +
                                     ", execution_id=" + id + "]"));
  actors::control_msg m;
  m.execution_id = id;
  if (target == "PAUSED") {
    m.what = actors::control_msg::pause;
  } else if (target == "RUNNING") {
    m.what = actors::control_msg::resume;
    // An env update while paused went to the stored params only: the
    // resumed execution takes it from there, then the request's own env.
    json env =
      (**row)["params"].is_object() ? (**row)["params"].value("env", json::object()) : json::object();
    if (!env.is_object())
      env = json::object();
    if (has_env && params["env"].is_object())
      for (auto it = params["env"].begin(); it != params["env"].end(); ++it)
        env[it.key()] = it.value();
    if (!env.empty())
      m.env_json = env.dump();
  } else {
    m.what = actors::control_msg::stop;
    m.target_state = target;
  }
  if (body->contains("state_info") && (*body)["state_info"].is_string()) {
    m.message = (*body)["state_info"];
    m.has_message = true;
  }
  if (!ctx.engine)
    return respond(wsme_fault(500, "The engine is not available on this node"));
  ctx.engine->control(m, [respond](result<std::string> r) {
    if (!r.ok())
      return respond(wsme_fault(500, r.err().message));
    respond(json_response(200, execution_resource(json::parse(*r, nullptr, false), true, false)));
  });
}

/// The execution and every sub-workflow execution below it (Mistral's delete cascades).
std::vector<std::string> execution_tree_ids(api_context& ctx, const std::string& id) {
  std::vector<std::string> ids{id};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    persistence::list_query tasks;
    tasks.filters.push_back(filter{"workflow_execution_id", filter_op::eq, {ids[i]}});
    auto task_rows = ctx.db->list(persistence::task_executions_table(), tasks);
    if (!task_rows.ok())
      continue;
    for (const auto& t : *task_rows) {
      persistence::list_query subs;
      subs.filters.push_back(filter{"task_execution_id", filter_op::eq, {t["id"]}});
      auto sub_rows = ctx.db->list(persistence::workflow_executions_table(), subs);
      if (sub_rows.ok())
        for (const auto& w : *sub_rows)
          ids.push_back(w.value("id", ""));
    }
  }
  return ids;
}

http_response delete_rows(api_context& ctx, const std::vector<std::string>& ids) {
  std::vector<json> keys(ids.begin(), ids.end());
  std::vector<persistence::write_op> ops;
  using op = persistence::write_op;
  for (const auto* t : {&persistence::action_executions_table(), &persistence::task_executions_table(),
                        &persistence::delayed_calls_table()})
    ops.push_back({op::kind::remove, t, {}, {filter{"workflow_execution_id", filter_op::in, keys}}});
  ops.push_back(
    {op::kind::remove, &persistence::workflow_executions_table(), {}, {filter{"id", filter_op::in, keys}}});
  ops.push_back(
    {op::kind::remove, &persistence::execution_leases_table(), {}, {filter{"id", filter_op::in, keys}}});
  auto done = ctx.db->write_batch(ops);
  if (!done.ok())
    return wsme_fault(done.err());
  http_response r;
  r.status = 204;
  return r;
}

/// DELETE /v2/executions/{id}: live actors of the tree stop first, so none
/// of them writes a deleted row back.
void delete_execution(std::shared_ptr<api_context> ctx, const http_request& req, const std::string& id,
                      responder respond) {
  auto row = find_execution(*ctx, id);
  if (!row.ok())
    return respond(wsme_fault(row.err()));
  if (!row->has_value())
    return respond(execution_not_found(id));
  std::string st = (**row).value("state", "");
  if (!flag(req, "force") && st != "SUCCESS" && st != "ERROR" && st != "CANCELLED")
    return respond(
      wsme_fault(403, "Only completed executions can be deleted. Use --force to override this. Execution " +
                        id + " is in " + st + " state"));
  auto ids = execution_tree_ids(*ctx, id);
  if (!ctx->engine)
    return respond(delete_rows(*ctx, ids));
  auto pending = std::make_shared<std::atomic<std::size_t>>(ids.size());
  for (const auto& each : ids) {
    actors::control_msg m;
    m.execution_id = each;
    m.what = actors::control_msg::forget;
    ctx->engine->control(m, [ctx, ids, pending, respond](result<std::string>) {
      if (--*pending == 0)
        respond(delete_rows(*ctx, ids));
    });
  }
}

// ---- sub-executions and the execution report -----------------------------------

/// The query flags of the tree endpoints, parsed as WSME does (bool, int).
struct tree_filters {
  bool errors_only = false;
  bool include_output = false;
  bool statistics_only = false;
  long long max_depth = -1;
};

/// WSME converts a query argument with bool(value): any non-empty text,
/// even "false", is True.
bool bool_param(const http_request& req, const std::string& name) {
  auto v = req.query_value(name);
  return v && !v->empty();
}

result<tree_filters> parse_tree_filters(const http_request& req) {
  tree_filters f;
  for (auto [name, target] :
       {std::pair{"errors_only", &f.errors_only}, std::pair{"include_output", &f.include_output},
        std::pair{"statistics_only", &f.statistics_only}}) {
    *target = bool_param(req, name);
  }
  if (auto v = req.query_value("max_depth")) {
    try {
      std::size_t used = 0;
      f.max_depth = std::stoll(*v, &used);
      if (used != v->size())
        throw std::invalid_argument(*v);
    } catch (...) {
      return error(errc::invalid_input,
                   "Invalid input for field/attribute max_depth. Value: '" + *v +
                     "'. unable to convert to int. Error: invalid literal for int() with "
                     "base 10: '" +
                     *v + "'");
    }
  }
  return f;
}

std::optional<http_response> bad_uuid(const std::string& field, const std::string& id) {
  if (looks_like_uuid(id))
    return std::nullopt;
  return wsme_fault(400, "Invalid input for field/attribute " + field + ". Value: '" + id +
                           "'. unable to convert to uuid. Error: Expected a uuid but received " + id + ".");
}

std::vector<record> rows_where(api_context& ctx, const persistence::table_def& t, const std::string& column,
                               const std::string& value) {
  persistence::list_query q;
  q.filters.push_back(filter{column, filter_op::eq, {value}});
  q.sort.push_back({"created_at", false});
  q.sort.push_back({"id", false});
  auto rows = ctx.db->list(t, q);
  return rows.ok() ? std::move(*rows) : std::vector<record>{};
}

void task_sub_executions(api_context& ctx, const record& task, const tree_filters& f, long long depth,
                         json& out);

/// Mistral's get_execution_sub_executions_list: the execution, then its
/// tasks' sub-executions depth-first.
void execution_sub_executions(api_context& ctx, const record& wf, const tree_filters& f, long long depth,
                              json& out) {
  if (f.max_depth >= 0 && depth > f.max_depth)
    return;
  out.push_back(execution_resource(wf, f.include_output, false));
  for (const auto& task :
       rows_where(ctx, persistence::task_executions_table(), "workflow_execution_id", wf["id"]))
    task_sub_executions(ctx, task, f, depth + 1, out);
}

void task_sub_executions(api_context& ctx, const record& task, const tree_filters& f, long long depth,
                         json& out) {
  if (f.errors_only && task.value("state", "") != "ERROR")
    return;
  for (const auto& wf :
       rows_where(ctx, persistence::workflow_executions_table(), "task_execution_id", task["id"]))
    execution_sub_executions(ctx, wf, f, depth, out);
}

http_response sub_executions(api_context& ctx, const http_request& req, const std::string& id, bool of_task) {
  if (auto bad = bad_uuid("id", id))
    return *bad;
  auto f = parse_tree_filters(req);
  if (!f.ok())
    return wsme_fault(f.err());
  const auto& table =
    of_task ? persistence::task_executions_table() : persistence::workflow_executions_table();
  auto row = ctx.db->find_one(table, {filter{"id", filter_op::eq, {id}}});
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(404, (of_task ? "Task execution not found [id=" : "WorkflowExecution not found [id=") +
                             id + "]");
  json items = json::array();
  if (of_task)
    task_sub_executions(ctx, **row, *f, 0, items);
  else
    execution_sub_executions(ctx, **row, *f, 0, items);
  return json_response(200, json{{"executions", std::move(items)}});
}

struct report_statistics {
  int total = 0, running = 0, success = 0, error = 0, idle = 0, paused = 0;

  void count(const std::string& st) {
    int* slot = st == "RUNNING"   ? &running
                : st == "SUCCESS" ? &success
                : st == "ERROR"   ? &error
                : st == "IDLE"    ? &idle
                : st == "PAUSED"  ? &paused
                                  : nullptr;
    if (slot) {
      ++*slot;
      ++total;
    }
  }
};

json report_entry(const record& r, const std::string& name_field) {
  json e = json::object();
  e["id"] = r["id"];
  e["name"] = r[name_field];
  e["created_at"] = time_field(r["created_at"]);
  e["updated_at"] = time_field(r["updated_at"]);
  e["state"] = r["state"];
  e["state_info"] = r["state_info"];
  return e;
}

std::optional<json> report_task(api_context& ctx, const record& task, const tree_filters& f, long long depth,
                                report_statistics& stat);

/// Mistral's analyse_workflow_execution: tasks are left out below max_depth.
json report_workflow(api_context& ctx, const record& wf, const tree_filters& f, long long depth,
                     report_statistics& stat) {
  json entry = report_entry(wf, "workflow_name");
  if (f.max_depth >= 0 && depth > f.max_depth)
    return entry;
  json tasks = json::array();
  for (const auto& task :
       rows_where(ctx, persistence::task_executions_table(), "workflow_execution_id", wf["id"]))
    if (auto t = report_task(ctx, task, f, depth + 1, stat))
      tasks.push_back(std::move(*t));
  entry["task_executions"] = std::move(tasks);
  return entry;
}

std::optional<json> report_task(api_context& ctx, const record& task, const tree_filters& f, long long depth,
                                report_statistics& stat) {
  if (f.errors_only && task.value("state", "") != "ERROR")
    return std::nullopt;
  stat.count(task.value("state", ""));
  json actions = json::array();
  json workflows = json::array();
  for (const auto& a :
       rows_where(ctx, persistence::action_executions_table(), "task_execution_id", task["id"])) {
    if (a.value("is_workflow", false) == true)
      continue; // a sub-workflow's link: it is listed under workflow_executions
    json e = json::object();
    e["accepted"] = shown_accepted(a);
    e["last_heartbeat"] = time_field(a["updated_at"].is_null() ? a["created_at"] : a["updated_at"]);
    json base = report_entry(a, "name");
    for (auto it = base.begin(); it != base.end(); ++it)
      e[it.key()] = it.value();
    actions.push_back(std::move(e));
  }
  for (const auto& wf :
       rows_where(ctx, persistence::workflow_executions_table(), "task_execution_id", task["id"])) {
    workflows.push_back(report_workflow(ctx, wf, f, depth, stat));
  }
  json entry = json::object();
  entry["action_executions"] = std::move(actions);
  entry["workflow_executions"] = std::move(workflows);
  const json& rc = task["runtime_context"];
  if (rc.is_object() && rc.contains("retry_task_policy") && rc["retry_task_policy"].is_object())
    entry["retry_count"] = rc["retry_task_policy"].value("retry_no", 0);
  json base = report_entry(task, "name");
  for (auto it = base.begin(); it != base.end(); ++it)
    entry[it.key()] = it.value();
  return entry;
}

/// Mistral's estimate_time_for_execution: only a RUNNING execution gets an
/// estimate, from the last successful runs of its workflow.
long long estimated_time(api_context& ctx, const record& wf) {
  if (wf.value("state", "") != "RUNNING")
    return 0;
  persistence::list_query q;
  q.filters.push_back(filter{"workflow_id", filter_op::eq, {wf["workflow_id"]}});
  q.filters.push_back(filter{"state", filter_op::eq, {"SUCCESS"}});
  q.limit = 20;
  auto prev = ctx.db->list(persistence::workflow_executions_table(), q);
  if (!prev.ok() || prev->empty())
    return -1;
  auto seconds = [](const json& from, const json& to) {
    return (to.get<long long>() - from.get<long long>()) / 1000000;
  };
  long long total = 0;
  for (const auto& p : *prev)
    if (p["created_at"].is_number() && p["updated_at"].is_number())
      total += seconds(p["created_at"], p["updated_at"]);
  double average = static_cast<double>(total) / static_cast<double>(prev->size());
  long long elapsed = wf["created_at"].is_number() ? seconds(wf["created_at"], json(ctx.clock->now())) : 0;
  double left = average - static_cast<double>(elapsed);
  return left < 0 ? 1 : static_cast<long long>(left);
}

http_response execution_report(api_context& ctx, const http_request& req, const std::string& id) {
  if (auto bad = bad_uuid("workflow_execution_id", id))
    return *bad;
  auto f = parse_tree_filters(req);
  if (!f.ok())
    return wsme_fault(f.err());
  auto row = find_execution(ctx, id);
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(404, "WorkflowExecution not found [id=" + id + "]");
  report_statistics stat;
  long long estimate = estimated_time(ctx, **row);
  json root = report_workflow(ctx, **row, *f, 0, stat);
  json body = json::object();
  body["statistics"] = json{{"total_tasks_count", stat.total},     {"running_tasks_count", stat.running},
                            {"success_tasks_count", stat.success}, {"error_tasks_count", stat.error},
                            {"idle_tasks_count", stat.idle},       {"paused_tasks_count", stat.paused},
                            {"estimated_time", estimate}};
  if (!f->statistics_only)
    body["root_workflow_execution"] = std::move(root);
  return json_response(200, body);
}

// ---- tasks -------------------------------------------------------------------

http_response list_tasks(api_context& ctx, const http_request& req, std::vector<filter> extra = {}) {
  auto l = parse_listing(req, tasks_listing());
  if (!l.ok())
    return wsme_fault(l.err());
  for (auto& f : extra)
    l->query.filters.push_back(std::move(f));
  auto rows = ctx.db->list(persistence::task_executions_table(), l->query);
  if (!rows.ok())
    return wsme_fault(rows.err());
  json items = json::array();
  for (const auto& r : *rows)
    items.push_back(select_fields(task_resource(*ctx.db, r, false), *l));
  return json_response(200, collection_body(tasks_listing(), *l, std::move(items), req.host_url()));
}

http_response get_task(api_context& ctx, const std::string& id) {
  auto row = ctx.db->find_one(persistence::task_executions_table(), {filter{"id", filter_op::eq, {id}}});
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(404, "Task execution not found [id=" + id + "]");
  json task = task_resource(*ctx.db, **row, true);
  // Mistral's GET adds the global variables a finished task published.
  const json& rc = (**row)["runtime_context"];
  if (rc.is_object() && rc.contains(engine::published_global_key) &&
      !rc[engine::published_global_key].empty())
    task["published_global"] = python_json_dumps(rc[engine::published_global_key]);
  return json_response(200, task);
}

void rerun_task(api_context& ctx, const http_request& req, const std::string& id, responder respond) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return respond(wsme_fault(body.err()));
  auto row = ctx.db->find_one(persistence::task_executions_table(), {filter{"id", filter_op::eq, {id}}});
  if (!row.ok())
    return respond(wsme_fault(row.err()));
  if (!row->has_value())
    return respond(wsme_fault(404, "Task execution not found [id=" + id + "]"));
  if (body->value("state", "") != "RUNNING")
    return respond(wsme_fault(400, "Invalid task state. Only updating task to rerun is supported."));
  if (!body->contains("reset"))
    return respond(wsme_fault(400, "Mandatory field 'reset' is not provided."));
  if ((**row).value("state", "") != "ERROR")
    return respond(wsme_fault(400, "The current task execution must be in ERROR for rerun."));
  bool reset = body->value("reset", true);
  actors::control_msg m;
  m.execution_id = (**row).value("workflow_execution_id", "");
  m.what = actors::control_msg::rerun;
  m.task_id = id;
  m.reset = reset;
  if (body->contains("env")) {
    auto env = json_type_field((*body)["env"], "env");
    if (env.ok() && env->is_object())
      m.env_json = env->dump();
  }
  if (!ctx.engine)
    return respond(wsme_fault(500, "The engine is not available on this node"));
  auto db = ctx.db;
  ctx.engine->control(m, [respond, db, id](result<std::string> r) {
    if (!r.ok())
      return respond(wsme_fault(500, r.err().message));
    auto t = db->find_one(persistence::task_executions_table(), {filter{"id", filter_op::eq, {id}}});
    if (!t.ok() || !t->has_value())
      return respond(wsme_fault(404, "Task execution not found [id=" + id + "]"));
    respond(json_response(200, task_resource(*db, **t, true)));
  });
}

// ---- action executions -----------------------------------------------------------

http_response list_actions(api_context& ctx, const http_request& req, std::vector<filter> extra = {}) {
  auto l = parse_listing(req, actions_listing());
  if (!l.ok())
    return wsme_fault(l.err());
  for (auto& f : extra)
    l->query.filters.push_back(std::move(f));
  l->query.filters.push_back(filter{"is_workflow", filter_op::eq, {false}});
  auto rows = ctx.db->list(persistence::action_executions_table(), l->query);
  if (!rows.ok())
    return wsme_fault(rows.err());
  bool with_output = flag(req, "include_output");
  json items = json::array();
  for (const auto& r : *rows)
    items.push_back(select_fields(action_resource(r, with_output), *l));
  return json_response(200, collection_body(actions_listing(), *l, std::move(items), req.host_url()));
}

http_response get_action(api_context& ctx, const std::string& id) {
  auto row = ctx.db->find_one(persistence::action_executions_table(), {filter{"id", filter_op::eq, {id}}});
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(404, "ActionExecution not found [id=" + id + "]");
  return json_response(200, action_resource(**row, true));
}

void update_action(api_context& ctx, const http_request& req, const std::string& id, responder respond) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return respond(wsme_fault(body.err()));
  auto row = ctx.db->find_one(persistence::action_executions_table(), {filter{"id", filter_op::eq, {id}}});
  if (!row.ok())
    return respond(wsme_fault(row.err()));
  if (!row->has_value())
    return respond(wsme_fault(404, "ActionExecution not found [id=" + id + "]"));
  std::string st = body->value("state", "");
  static const std::vector<std::string> allowed = {"SUCCESS", "ERROR", "CANCELLED", "PAUSED", "RUNNING"};
  if (std::find(allowed.begin(), allowed.end(), st) == allowed.end())
    return respond(wsme_fault(400, "Error. Expected one of ['SUCCESS', 'ERROR', 'CANCELLED', 'PAUSED', "
                                   "'RUNNING'], actual: " +
                                     st));
  std::string current = (**row).value("state", "");
  if (current == "SUCCESS" || current == "ERROR" || current == "CANCELLED")
    return respond(wsme_fault(500, "Action " + (**row).value("name", "") + " is already completed"));
  json output = body->value("output", json(nullptr));
  if (output.is_string()) {
    auto parsed = json::parse(output.get<std::string>(), nullptr, false);
    if (!parsed.is_discarded())
      output = parsed;
  }
  bool standalone = !(**row)["task_execution_id"].is_string();
  if (standalone && (st == "SUCCESS" || st == "ERROR" || st == "CANCELLED"))
    return respond(complete_standalone_action(ctx, **row, st, output));
  if (st == "SUCCESS" || st == "ERROR" || st == "CANCELLED") {
    actors::action_result_msg m;
    m.execution_id = (**row).value("workflow_execution_id", "");
    m.action_id = id;
    m.kind = st == "SUCCESS" ? 0 : st == "ERROR" ? 1 : 2;
    m.data_json = output.dump();
    m.error_json = (output.is_null() && st == "ERROR" ? json("Unknown error") : output).dump();
    if (!ctx.engine)
      return respond(wsme_fault(500, "The engine is not available on this node"));
    ctx.engine->complete_action(m);
    // The engine commits before it acts; answer with the row as it will read.
    json r = **row;
    r["state"] = st;
    r["output"] = json{{"result", st == "SUCCESS" ? output : json::parse(m.error_json)}};
    json answer = action_resource(r, true);
    answer.erase("task_name"); // Mistral answers with the row, which has no task name
    return respond(json_response(200, answer));
  }
  auto done = ctx.db->update(persistence::action_executions_table(), {filter{"id", filter_op::eq, {id}}},
                             {{"state", st}, {"updated_at", ctx.clock->now()}});
  if (!done.ok())
    return respond(wsme_fault(done.err()));
  respond(get_action(ctx, id));
}

/// DELETE /v2/action_executions/{id}: only when [api]
/// allow_action_execution_deletion is set, and only completed ad-hoc runs.
http_response delete_action(api_context& ctx, const std::string& id) {
  if (!ctx.cfg || !ctx.cfg->get_bool("api", "allow_action_execution_deletion", false))
    return wsme_fault(403, "Action execution deletion is not allowed.");
  auto row = ctx.db->find_one(persistence::action_executions_table(), {filter{"id", filter_op::eq, {id}}});
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(404, "ActionExecution not found [id=" + id + "]");
  if ((**row)["task_execution_id"].is_string())
    return wsme_fault(403, "Only ad-hoc action execution can be deleted.");
  std::string st = (**row).value("state", "");
  if (st != "SUCCESS" && st != "ERROR" && st != "CANCELLED")
    return wsme_fault(403, "Only completed action execution can be deleted.");
  auto done = ctx.db->remove(persistence::action_executions_table(), {filter{"id", filter_op::eq, {id}}});
  if (!done.ok())
    return wsme_fault(done.err());
  http_response r;
  r.status = 204;
  return r;
}

template <class F>
handler sync(std::shared_ptr<api_context> ctx, F f) {
  return
    [ctx, f](const http_request& req, const route_params& p, responder respond) { respond(f(*ctx, req, p)); };
}

} // namespace

void add_execution_routes(router& r, std::shared_ptr<api_context> ctx) {
  r.add("GET", "/v2/executions", sync(ctx, [](api_context& c, const http_request& q, const route_params&) {
          return list_executions(c, q);
        }));
  r.add("POST", "/v2/executions", [ctx](const http_request& q, const route_params&, responder respond) {
    create_execution(*ctx, q, std::move(respond));
  });
  // Reading one execution runs on the listener's thread (router::add_inline):
  // one store read and a thread-safe answer. Starting one stays with the HTTP
  // actor: inline, its definition read held up the listener and POST was no
  // faster in interleaved runs of the 1-task loop (p10 2.84 vs 2.56 ms).
  r.add_inline("GET", "/v2/executions/{id}",
               sync(ctx, [](api_context& c, const http_request&, const route_params& p) {
                 return get_execution(c, p.at("id"));
               }));
  r.add("PUT", "/v2/executions/{id}", [ctx](const http_request& q, const route_params& p, responder respond) {
    update_execution(*ctx, q, p.at("id"), std::move(respond));
  });
  r.add("DELETE", "/v2/executions/{id}",
        [ctx](const http_request& q, const route_params& p, responder respond) {
          delete_execution(ctx, q, p.at("id"), std::move(respond));
        });
  r.add("GET", "/v2/executions/{id}/tasks",
        sync(ctx, [](api_context& c, const http_request& q, const route_params& p) {
          return list_tasks(c, q, {filter{"workflow_execution_id", filter_op::eq, {p.at("id")}}});
        }));
  r.add("GET", "/v2/executions/{id}/executions",
        sync(ctx, [](api_context& c, const http_request& q, const route_params& p) {
          return sub_executions(c, q, p.at("id"), false);
        }));
  r.add("GET", "/v2/executions/{id}/report",
        sync(ctx, [](api_context& c, const http_request& q, const route_params& p) {
          return execution_report(c, q, p.at("id"));
        }));
  r.add("GET", "/v2/tasks/{id}/executions",
        sync(ctx, [](api_context& c, const http_request& q, const route_params& p) {
          return sub_executions(c, q, p.at("id"), true);
        }));
  r.add("GET", "/v2/tasks", sync(ctx, [](api_context& c, const http_request& q, const route_params&) {
          return list_tasks(c, q);
        }));
  r.add("GET", "/v2/tasks/{id}", sync(ctx, [](api_context& c, const http_request&, const route_params& p) {
          return get_task(c, p.at("id"));
        }));
  r.add("PUT", "/v2/tasks/{id}", [ctx](const http_request& q, const route_params& p, responder respond) {
    rerun_task(*ctx, q, p.at("id"), std::move(respond));
  });
  r.add("GET", "/v2/tasks/{id}/action_executions",
        sync(ctx, [](api_context& c, const http_request& q, const route_params& p) {
          return list_actions(c, q, {filter{"task_execution_id", filter_op::eq, {p.at("id")}}});
        }));
  r.add("GET", "/v2/tasks/{id}/workflow_executions",
        sync(ctx, [](api_context& c, const http_request& q, const route_params& p) {
          return list_executions(c, q, {filter{"task_execution_id", filter_op::eq, {p.at("id")}}});
        }));
  r.add(
    "GET", "/v2/action_executions",
    sync(ctx, [](api_context& c, const http_request& q, const route_params&) { return list_actions(c, q); }));
  r.add("POST", "/v2/action_executions",
        [ctx](const http_request& q, const route_params&, responder respond) {
          run_action(ctx, q, std::move(respond));
        });
  r.add("GET", "/v2/action_executions/{id}",
        sync(ctx, [](api_context& c, const http_request&, const route_params& p) {
          return get_action(c, p.at("id"));
        }));
  r.add("DELETE", "/v2/action_executions/{id}",
        sync(ctx, [](api_context& c, const http_request&, const route_params& p) {
          return delete_action(c, p.at("id"));
        }));
  r.add("PUT", "/v2/action_executions/{id}",
        [ctx](const http_request& q, const route_params& p, responder respond) {
          update_action(*ctx, q, p.at("id"), std::move(respond));
        });
}

} // namespace mistral::api

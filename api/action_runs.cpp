#include "api/action_runs.hpp"

#include "actors/action/adhoc.hpp"
#include "actors/action/catalog.hpp"
#include "actors/action/std_actions.hpp"
#include "api/rest.hpp"
#include "common/py_json.hpp"
#include "common/uuid.hpp"
#include "dsl/expr/py_value.hpp"
#include "persistence/definition_stores.hpp"
#include "persistence/execution_tables.hpp"

#include <thread>

namespace mistral::api {

namespace {

using persistence::filter;
using persistence::filter_op;
using persistence::record;

json json_text(const json& v) {
  return v.is_null() ? json(nullptr) : json(python_json_dumps(v));
}

/// The shape Mistral's start_action and on_action_complete answer: the
/// model's own fields, so no task_name.
json run_resource(const record& r, json created_at, json updated_at) {
  json out = json::object();
  out["id"] = r["id"];
  out["workflow_name"] = r["workflow_name"];
  out["workflow_namespace"] = r.value("workflow_namespace", json(""));
  out["task_execution_id"] = r["task_execution_id"];
  out["state"] = r["state"];
  out["state_info"] = r["state_info"];
  out["tags"] = nullptr;
  out["name"] = r["name"];
  out["description"] = r["description"];
  out["project_id"] = r["project_id"];
  out["accepted"] = r["accepted"];
  out["input"] = json_text(r["input"]);
  out["output"] = json_text(r["output"]);
  out["created_at"] = std::move(created_at);
  out["updated_at"] = std::move(updated_at);
  return out;
}

action::adhoc_lookup lookup_in(std::shared_ptr<persistence::database> db, const std::string& ns) {
  return [db, ns](const std::string& name) -> std::optional<dsl::action_spec> {
    persistence::action_definition_store store(db);
    for (const std::string& space : {ns, std::string()}) {
      auto row = store.get_by_name(name, space);
      if (row.ok() && row->has_value())
        return action::adhoc_from_raw(name, (**row)["spec"]);
      if (space.empty())
        break;
    }
    return std::nullopt;
  };
}

/// A finished run's output dict: {"result": data|error}, ad-hoc output
/// clauses applied to a success (a failing clause fails the run).
std::pair<bool, json> finished_output(const action::action_result& r, const std::vector<json>& transforms) {
  if (r.outcome == action::action_result::kind::success) {
    auto out = action::transform_output(r.data, transforms);
    if (!out.ok())
      return {false, json{{"result", out.err().message}}};
    return {true, json{{"result", *out}}};
  }
  if (r.outcome == action::action_result::kind::cancelled)
    return {false, json{{"result", nullptr}}};
  return {false, json{{"result", r.error}}};
}

action::action_context context_for(const std::string& id, const std::string& host_url) {
  action::action_context c;
  c.action_execution_id = id;
  c.callback_url = host_url + "/v2/action_executions/" + id;
  return c;
}

/// Mistral answers a saved run_sync row with the datetime's isoformat().
json iso_time(json micros) {
  json t = time_field(micros);
  if (!t.is_string())
    return t;
  std::string s = t.get<std::string>();
  if (s.size() > 10)
    s[10] = 'T';
  return s + ".000000";
}

record new_row(api_context& ctx, const std::string& name, const std::string& ns, const json& input,
               bool is_sync) {
  record row = json::object();
  row["id"] = make_uuid();
  row["name"] = name;
  row["workflow_name"] = nullptr;
  row["workflow_namespace"] = ns;
  row["task_name"] = nullptr;
  row["task_execution_id"] = nullptr;
  row["workflow_execution_id"] = nullptr;
  row["state_info"] = nullptr;
  row["accepted"] = false;
  row["is_workflow"] = false;
  row["is_sync"] = is_sync;
  row["input"] = input;
  row["output"] = nullptr;
  row["tags"] = nullptr;
  row["project_id"] = default_project;
  row["created_at"] = ctx.clock->now();
  row["updated_at"] = nullptr;
  return row;
}

/// In a cluster, params.target sends the action to an executor of that
/// target (as Mistral's engine does); otherwise, or for an async action, it
/// runs here.
action::action_run run_here_or_on_target(const api_context& ctx, const action::standalone_action& act,
                                         const action::action_context& actx, const std::string& target,
                                         const std::string& action_id) {
  if (target.empty() || !ctx.run_on_target || action::is_async_action(act.base))
    return action::run_std_action(act.base, act.input, actx);
  return action::action_run{false, ctx.run_on_target(action_id, act.base, act.input, target, 60)};
}

std::string target_of(const json& params) {
  auto t = params.find("target");
  return t != params.end() && t->is_string() ? t->get<std::string>() : "";
}

/// Runs a saved, scheduled action in the background and stores its end.
void run_in_background(std::shared_ptr<api_context> ctx, record row, action::standalone_action act,
                       std::string host_url, std::string target) {
  std::thread([ctx, row = std::move(row), act = std::move(act), host_url, target] {
    std::string id = row["id"];
    auto run = run_here_or_on_target(*ctx, act, context_for(id, host_url), target, id);
    if (run.async) { // completed later through PUT /v2/action_executions/{id}
      (void)ctx->db->update(persistence::action_executions_table(), {filter{"id", filter_op::eq, {id}}},
                            {{"updated_at", ctx->clock->now()}});
      return;
    }
    auto [ok, output] = finished_output(run.result, act.output_transforms);
    std::string st = run.result.outcome == action::action_result::kind::cancelled ? "CANCELLED"
                     : ok                                                         ? "SUCCESS"
                                                                                  : "ERROR";
    (void)ctx->db->update(
      persistence::action_executions_table(), {filter{"id", filter_op::eq, {id}}},
      {{"state", st}, {"output", output}, {"accepted", true}, {"updated_at", ctx->clock->now()}});
  }).detach();
}

} // namespace

void run_action(std::shared_ptr<api_context> ctx, const http_request& req, responder respond) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return respond(wsme_fault(body.err()));
  if (!body->is_object())
    return respond(wsme_fault(400, "Invalid input for field/attribute action_ex."));
  for (const char* field : {"name", "workflow_namespace", "description"})
    if (auto bad = text_field_error(*body, field))
      return respond(wsme_fault(*bad));
  std::string name = body->value("name", json("")).is_string() ? body->value("name", "") : "";
  if (name.empty())
    return respond(wsme_fault(400, "Please provide at least action name to run action."));
  auto input = json_type_field(body->value("input", json::object()), "input");
  auto params = json_type_field(body->value("params", json::object()), "params");
  if (!input.ok())
    return respond(wsme_fault(input.err()));
  if (!params.ok())
    return respond(wsme_fault(params.err()));
  json in = input->is_object() ? *input : json::object();
  json pa = params->is_object() ? *params : json::object();
  json ns_field = body->value("workflow_namespace", json(""));
  std::string ns = ns_field.is_string() ? ns_field.get<std::string>() : "";
  auto resolved = action::resolve_standalone(name, in, ns, lookup_in(ctx->db, ns));
  if (auto* failure = std::get_if<action::resolve_failure>(&resolved))
    return respond(wsme_fault(400, failure->message));
  auto act = std::get<action::standalone_action>(std::move(resolved));
  in = act.named_input;
  bool is_sync = !action::is_async_action(act.base);
  bool run_sync = expr::py_truthy(pa.value("run_sync", json(false)));
  bool save = expr::py_truthy(pa.value("save_result", json(false)));
  if (run_sync && !is_sync)
    return respond(wsme_fault(400, "Action does not support synchronous execution."));
  json description = body->value("description", json(nullptr));
  if (!description.is_string() || description.get<std::string>().empty())
    description = nullptr;

  if (!run_sync && (save || !is_sync)) {
    record row = new_row(*ctx, name, ns, in, is_sync);
    row["state"] = "RUNNING";
    row["description"] = ""; // Mistral's schedule() drops the description
    if (auto done = ctx->db->insert(persistence::action_executions_table(), row); !done.ok())
      return respond(wsme_fault(done.err()));
    respond(json_response(201, run_resource(row, time_field(row["created_at"]), nullptr)));
    run_in_background(ctx, std::move(row), std::move(act), req.host_url(), target_of(pa));
    return;
  }

  std::thread([ctx, name, ns, in, act = std::move(act), save, is_sync, description, respond,
               target = target_of(pa)]() mutable {
    // Mistral applies an ad-hoc action's output clause only on completion
    // through the engine, not to a run it answers at once.
    auto answer = [&]() -> http_response {
      auto run = run_here_or_on_target(*ctx, act, action::action_context{}, target, make_uuid());
      auto [ok, output] = finished_output(run.result, {});
      if (!save) {
        record row = json::object();
        row["id"] = nullptr;
        row["workflow_name"] = nullptr;
        row["workflow_namespace"] = ns;
        row["task_execution_id"] = nullptr;
        row["state"] = ok ? "SUCCESS" : "ERROR";
        row["state_info"] = nullptr;
        row["name"] = name;
        row["description"] = description;
        row["project_id"] = nullptr;
        row["accepted"] = nullptr;
        row["input"] = in;
        row["output"] = output;
        return json_response(201, run_resource(row, nullptr, nullptr));
      }
      record row = new_row(*ctx, name, ns, in, is_sync);
      row["state"] = ok ? "SUCCESS" : "ERROR";
      row["description"] = description;
      row["output"] = output;
      if (auto done = ctx->db->insert(persistence::action_executions_table(), row); !done.ok())
        return wsme_fault(done.err());
      return json_response(201, run_resource(row, iso_time(row["created_at"]), nullptr));
    };
    // The store goes before the answer: once answered, the caller may tear
    // everything down, and this thread must not be the one closing it.
    auto out = answer();
    ctx.reset();
    respond(std::move(out));
  }).detach();
}

http_response complete_standalone_action(api_context& ctx, const record& row, const std::string& state,
                                         const json& output) {
  action::action_result result;
  if (state == "SUCCESS")
    result = action::action_result::ok(output);
  else if (state == "ERROR")
    result = action::action_result::failed(output.is_null() ? json("Unknown error") : output);
  else
    result.outcome = action::action_result::kind::cancelled;
  std::string ns =
    row.value("workflow_namespace", json("")).is_string() ? row.value("workflow_namespace", "") : "";
  std::vector<json> transforms;
  auto resolved = action::resolve_standalone(row.value("name", ""), row["input"], ns, lookup_in(ctx.db, ns));
  if (auto* act = std::get_if<action::standalone_action>(&resolved))
    transforms = act->output_transforms;
  auto [ok, out] = finished_output(result, transforms);
  std::string st = state == "SUCCESS" && !ok ? "ERROR" : state;
  record changed = row;
  changed["state"] = st;
  changed["output"] = out;
  changed["accepted"] = true;
  changed["updated_at"] = ctx.clock->now();
  auto done = ctx.db->update(
    persistence::action_executions_table(), {filter{"id", filter_op::eq, {row["id"]}}},
    {{"state", st}, {"output", out}, {"accepted", true}, {"updated_at", changed["updated_at"]}});
  if (!done.ok())
    return wsme_fault(done.err());
  return json_response(
    200, run_resource(changed, time_field(changed["created_at"]), time_field(changed["updated_at"])));
}

} // namespace mistral::api

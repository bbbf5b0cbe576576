#include "actors/engine/start_request.hpp"

#include "actors/workflow/machine.hpp"
#include "common/uuid.hpp"
#include "dsl/expr/py_value.hpp"
#include "dsl/parser.hpp"
#include "persistence/definition_stores.hpp"

namespace mistral::engine {

namespace {

using persistence::record;

result<record> find_definition(const std::shared_ptr<persistence::database>& db, const start_request& req) {
  persistence::workflow_definition_store store(db);
  std::string identifier;
  if (!req.workflow_id.empty()) {
    identifier = req.workflow_id;
    auto row = store.get_by_id(identifier);
    if (row.ok() && row->has_value())
      return **row;
  } else {
    identifier = req.workflow_name;
    for (const std::string& space : {req.workflow_namespace, std::string()}) {
      auto row = store.get_by_name(identifier, space);
      if (row.ok() && row->has_value())
        return **row;
      if (space.empty())
        break;
    }
  }
  return error(errc::not_found, "Workflow not found [workflow_identifier=" + identifier +
                                  ", namespace=" + req.workflow_namespace + "]");
}

/// params.env may name a stored environment: Mistral stores its variables.
status resolve_env(const std::shared_ptr<persistence::database>& db, json& params) {
  if (!params.contains("env"))
    return ok_v;
  json& env = params["env"];
  if (!env.is_string() && !env.is_object() && !env.is_null() && expr::py_truthy(env)) {
    std::string type = env.is_boolean()          ? "bool"
                       : env.is_number_integer() ? "int"
                       : env.is_number()         ? "float"
                                                 : "list";
    return error(errc::invalid_input, "Unexpected value type for environment [env=" + expr::py_str(env) +
                                        ", type=<class '" + type + "'>]");
  }
  if (env.is_string() && !env.get<std::string>().empty()) {
    persistence::environment_store store(db);
    auto row = store.get_by_name(env.get<std::string>());
    if (!row.ok() || !row->has_value())
      return error(errc::invalid_input, "Environment is not found: " + env.get<std::string>());
    env = (**row)["variables"];
  }
  return ok_v;
}

} // namespace

result<actors::start_execution> build_start_execution(const std::shared_ptr<persistence::database>& db,
                                                      const start_request& req) {
  auto def = find_definition(db, req);
  if (!def.ok())
    return std::move(def).err();
  auto shared_spec = dsl::shared_workflow_from_raw((*def)["spec"]);
  if (!shared_spec.ok())
    return error(errc::invalid_input, shared_spec.err().message);
  const auto& spec = *shared_spec;
  json input = req.input.is_object() ? req.input : json::object();
  json params = req.params.is_object() ? req.params : json::object();
  if (auto bad = engine::check_workflow_input(*spec, input))
    return error(errc::invalid_input, *bad);
  if (spec->type == dsl::workflow_type::reverse) {
    std::string target = params.value("task_name", "");
    if (!spec->find_task(target))
      return error(errc::invalid_input,
                   "Invalid task name [wf_spec=" + spec->name + ", task_name=" + target + "]");
  }
  if (auto env = resolve_env(db, params); !env.ok())
    return std::move(env).err();
  params["namespace"] = def->value("namespace", "");
  actors::start_execution start;
  start.execution_id = req.execution_id.empty() ? make_uuid() : req.execution_id;
  start.workflow_id = def->value("id", "");
  start.workflow_name = def->value("name", "");
  start.workflow_namespace = def->value("namespace", "");
  start.spec_json = (*def)["spec"].dump();
  start.input_json = complete_workflow_input(*spec, input).dump();
  start.params_json = params.dump();
  start.description = req.description;
  start.tags_json = (*def)["tags"].dump();
  start.wb_name = (*def)["workbook_name"].is_string() ? (*def)["workbook_name"].get<std::string>() : "";
  return start;
}

} // namespace mistral::engine

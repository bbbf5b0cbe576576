#include "actors/engine/start_request.hpp"

#include "actors/workflow/field_size.hpp"
#include "actors/workflow/machine.hpp"
#include "common/uuid.hpp"
#include "dsl/expr/py_value.hpp"
#include "dsl/parser.hpp"
#include "persistence/definition_stores.hpp"

#include <mutex>
#include <unordered_map>

namespace mistral::engine {

namespace {

using persistence::record;

// What a start needs of the definition row besides its spec: the spec is
// read (and parsed) only when the definition cache does not hold this
// version of it.
const std::vector<std::string> start_columns = {
  "id", "name", "namespace", "tags", "workbook_name", "created_at", "updated_at"};

result<record> find_definition(const std::shared_ptr<persistence::database>& db, const start_request& req) {
  persistence::workflow_definition_store store(db);
  std::string identifier;
  if (!req.workflow_id.empty()) {
    identifier = req.workflow_id;
    auto row = db->find_one(store.table(), {{"id", persistence::filter_op::eq, {identifier}}}, start_columns);
    if (row.ok() && row->has_value())
      return **row;
  } else {
    identifier = req.workflow_name;
    for (const std::string& space : {req.workflow_namespace, std::string()}) {
      // In the order of the unique (name, namespace, project_id) index:
      // ordered by id, the lookup sorted its match in a temporary b-tree.
      persistence::list_query q;
      q.filters = {{"name", persistence::filter_op::eq, {identifier}},
                   {"namespace", persistence::filter_op::eq, {space}}};
      q.sort = {{"project_id", false}};
      q.limit = 1;
      q.columns = start_columns;
      auto rows = db->list(store.table(), q);
      if (rows.ok() && !rows->empty())
        return std::move(rows->front());
      if (space.empty())
        break;
    }
  }
  return error(errc::not_found, "Workflow not found [workflow_identifier=" + identifier +
                                  ", namespace=" + req.workflow_namespace + "]");
}

/// A definition's parsed spec and its text, as the start message carries it.
struct definition_spec {
  std::string version; ///< created_at and updated_at of the row it came from
  std::string text;
  std::shared_ptr<const dsl::workflow_spec> spec;
};

/// The spec of the definition `row` (from find_definition), from a cache
/// keyed by the definition's id and checked against its created_at and
/// updated_at: a PUT or a delete and re-create gives a new version, so a
/// start never runs a spec older than the row it found. Every start of a
/// definition used to read, parse and dump its whole spec.
result<std::shared_ptr<const definition_spec>> spec_of(const std::shared_ptr<persistence::database>& db,
                                                       const record& row) {
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<const definition_spec>> by_id;
  constexpr std::size_t max_definitions = 256;
  const std::string id = row.value("id", "");
  std::string version = row.value("created_at", json()).dump() + "/" + row.value("updated_at", json()).dump();
  {
    std::lock_guard lock(mutex);
    if (auto it = by_id.find(id); it != by_id.end() && it->second->version == version)
      return it->second;
  }
  persistence::workflow_definition_store store(db);
  auto full = db->find_one(store.table(), {{"id", persistence::filter_op::eq, {id}}}, {"spec"});
  if (!full.ok())
    return std::move(full).err();
  if (!full->has_value())
    return error(errc::not_found, "Workflow not found [workflow_identifier=" + id + "]");
  const json& raw = (**full)["spec"];
  auto spec = dsl::shared_workflow_from_raw(raw);
  if (!spec.ok())
    return error(errc::invalid_input, spec.err().message);
  auto entry =
    std::make_shared<const definition_spec>(definition_spec{std::move(version), raw.dump(), *spec});
  std::lock_guard lock(mutex);
  if (by_id.size() >= max_definitions)
    by_id.clear();
  by_id[id] = entry;
  return entry;
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
  auto cached = spec_of(db, *def);
  if (!cached.ok())
    return std::move(cached).err();
  const auto& spec = (*cached)->spec;
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
  json full_input = complete_workflow_input(*spec, input);
  // Creating the execution sets its input and params: Mistral's length
  // validator refuses the start.
  for (const auto& [field, value] :
       {std::pair<const char*, const json*>{"input", &full_input}, {"params", &params}})
    if (auto big = field_size_error(field, *value, req.field_size_limit_kb))
      return error(errc::invalid_input, *big);
  actors::start_execution start;
  start.execution_id = req.execution_id.empty() ? make_uuid() : req.execution_id;
  start.workflow_id = def->value("id", "");
  start.workflow_name = def->value("name", "");
  start.workflow_namespace = def->value("namespace", "");
  start.spec_json = (*cached)->text;
  start.input_json = full_input.dump();
  start.params_json = params.dump();
  start.description = req.description;
  start.tags_json = (*def)["tags"].dump();
  start.wb_name = (*def)["workbook_name"].is_string() ? (*def)["workbook_name"].get<std::string>() : "";
  return start;
}

} // namespace mistral::engine

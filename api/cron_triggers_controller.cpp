#include "api/cron_triggers_controller.hpp"

#include "actors/cron/cron_schedule.hpp"
#include "api/definitions_common.hpp"
#include "api/listing.hpp"
#include "api/rest.hpp"
#include "api/trigger_fields.hpp"
#include "common/uuid.hpp"
#include "dsl/parser.hpp"
#include "persistence/definition_stores.hpp"
#include "persistence/trigger_tables.hpp"

#include <cstdio>

namespace mistral::api {

namespace {

using persistence::filter;
using persistence::filter_op;
using persistence::record;

const listing_spec& cron_triggers_listing() {
  static const listing_spec spec{
    "cron_triggers",
    {"id", "name", "workflow_name", "workflow_id", "workflow_input", "workflow_params", "project_id", "scope",
     "pattern", "remaining_executions", "first_execution_time", "next_execution_time", "created_at",
     "updated_at"},
    {"name", "workflow_name", "workflow_id", "workflow_input", "workflow_params", "scope", "pattern",
     "remaining_executions", "first_execution_time", "next_execution_time", "created_at", "updated_at",
     "project_id"},
    {"all_projects"},
    {},
  };
  return spec;
}

json to_resource(const record& r, bool omit_updated_at = false) {
  json out = json::object();
  out["id"] = r["id"];
  out["name"] = r["name"];
  out["workflow_name"] = r["workflow_name"];
  out["workflow_id"] = r["workflow_id"];
  out["workflow_input"] = json_string_field(r["workflow_input"]);
  out["workflow_params"] = json_string_field(r["workflow_params"]);
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["scope"] = r["scope"];
  out["pattern"] = r["pattern"];
  out["remaining_executions"] = r["remaining_executions"];
  out["first_execution_time"] = time_field(r["first_execution_time"]);
  out["next_execution_time"] = time_field(r["next_execution_time"]);
  out["created_at"] = time_field(r["created_at"]);
  if (!omit_updated_at)
    out["updated_at"] = time_field(r["updated_at"]);
  return out;
}

// db_api.get_cron_trigger: the trigger whose id or name is `identifier`.
result<record> find_trigger(api_context& ctx, const std::string& identifier) {
  for (const char* column : {"id", "name"}) {
    auto row =
      ctx.db->find_one(persistence::cron_triggers_table(), {filter{column, filter_op::eq, {identifier}}});
    if (!row.ok())
      return std::move(row).err();
    if (row->has_value())
      return **row;
  }
  return error(errc::not_found, "Cron trigger not found [identifier=" + identifier + "]");
}

// db_api.get_workflow_definition(identifier) in the default namespace.
result<record> find_workflow(api_context& ctx, const std::string& identifier) {
  persistence::workflow_definition_store store(ctx.db);
  auto by_id = store.get_by_id(identifier);
  if (by_id.ok() && by_id->has_value())
    return **by_id;
  auto by_name = store.get_by_name(identifier, "");
  if (by_name.ok() && by_name->has_value())
    return **by_name;
  return error(errc::not_found, "Workflow not found [workflow_identifier=" + identifier + ", namespace=]");
}

// A stable digest of a dict whatever its key order (Mistral hashes
// json.dumps(sorted(items)) for its uniqueness constraint).
std::string dict_digest(const json& v) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : nlohmann::json(v).dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(h));
  return out;
}

std::optional<std::string> optional_text(const json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null())
    return std::nullopt;
  return body[key].is_string() ? body[key].get<std::string>() : body[key].dump();
}

http_response create(api_context& ctx, const http_request& req) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return wsme_fault(body.err());
  if (!body->is_object())
    return wsme_fault(body_not_a_dict(*body));
  if (auto bad = check_body_attributes(*body, cron_triggers_listing().fields, "cron_trigger"))
    return wsme_fault(*bad);
  auto count = positive_int_field(*body, "remaining_executions", "cron_trigger");
  if (!count.ok())
    return wsme_fault(count.err());
  auto scope = scope_field(req, *body);
  if (!scope.ok())
    return wsme_fault(scope.err());
  auto input = json_type_field(body->value("workflow_input", json(nullptr)), "workflow_input");
  if (!input.ok())
    return wsme_fault(input.err());
  auto params = json_type_field(body->value("workflow_params", json(nullptr)), "workflow_params");
  if (!params.ok())
    return wsme_fault(params.err());
  if (!body->contains("name") || (*body)["name"].is_null())
    return wsme_fault(500, "'name'");
  if (*scope == "public" && !is_admin(req))
    return wsme_fault(403, "Operation forbidden (insufficient permissions)");

  cron::trigger_request times_req{optional_text(*body, "pattern"),
                                  optional_text(*body, "first_execution_time"), *count};
  auto times = cron::plan_new_trigger(times_req, ctx.clock->now());
  if (!times.ok())
    return wsme_fault(times.err());
  auto identifier = optional_text(*body, "workflow_id");
  if (!identifier || identifier->empty())
    identifier = optional_text(*body, "workflow_name");
  auto wf = find_workflow(ctx, identifier.value_or("None"));
  if (!wf.ok())
    return wsme_fault(wf.err());
  auto spec = dsl::workflow_from_raw((*wf)["spec"]);
  if (!spec.ok())
    return wsme_fault(400, spec.err().message);
  json wf_input = input->is_object() ? *input : json::object();
  if (auto bad = dsl::check_workflow_input(*spec, wf_input))
    return wsme_fault(400, bad->message);

  record row = {{"id", make_uuid()},
                {"name", (*body)["name"].is_string() ? (*body)["name"] : json((*body)["name"].dump())},
                {"pattern", times->pattern},
                {"first_execution_time",
                 times->first_execution_time ? json(*times->first_execution_time) : json(nullptr)},
                {"next_execution_time", times->next_execution_time},
                {"workflow_name", (*wf)["name"]},
                {"workflow_id", (*wf)["id"]},
                {"workflow_input", wf_input},
                {"workflow_input_hash", dict_digest(wf_input)},
                {"workflow_params", params->is_object() ? *params : json::object()},
                {"workflow_params_hash", dict_digest(params->is_object() ? *params : json::object())},
                {"remaining_executions",
                 times->remaining_executions ? json(*times->remaining_executions) : json(nullptr)},
                {"scope", *scope},
                {"project_id", default_project},
                {"created_at", ctx.clock->now()},
                {"updated_at", nullptr}};
  auto done = ctx.db->insert(persistence::cron_triggers_table(), row);
  if (!done.ok()) {
    if (done.err().code == errc::conflict)
      return wsme_fault(409, "Duplicate entry for cron trigger ['name', 'project_id']: " +
                               row["name"].get<std::string>() + ", None");
    return wsme_fault(done.err());
  }
  return json_response(201, to_resource(row, true));
}

http_response get(api_context& ctx, const std::string& identifier) {
  auto row = find_trigger(ctx, identifier);
  if (!row.ok())
    return wsme_fault(row.err());
  return json_response(200, to_resource(*row));
}

http_response remove(api_context& ctx, const std::string& identifier) {
  auto row = find_trigger(ctx, identifier);
  if (!row.ok())
    return wsme_fault(row.err());
  auto done =
    ctx.db->remove(persistence::cron_triggers_table(), {filter{"id", filter_op::eq, {(*row)["id"]}}});
  if (!done.ok())
    return wsme_fault(done.err());
  return no_content();
}

http_response list(api_context& ctx, const http_request& req) {
  if (auto bad = invalid_marker(req))
    return *bad;
  auto marker = req.query_value("marker");
  auto l = parse_listing(req, cron_triggers_listing());
  if (!l.ok())
    return listing_fault(l.err());
  if (flag_set(req, "all_projects") && !is_admin(req))
    return wsme_fault(403, "Operation forbidden (insufficient permissions)");
  if (marker) {
    auto found =
      ctx.db->find_one(persistence::cron_triggers_table(), {filter{"id", filter_op::eq, {*marker}}});
    if (!found.ok())
      return wsme_fault(found.err());
    if (!found->has_value())
      return wsme_fault(404, "Cron trigger not found [identifier=" + *marker + "]");
  }
  auto rows = ctx.db->list(persistence::cron_triggers_table(), l->query);
  if (!rows.ok())
    return wsme_fault(rows.err());
  json items = json::array();
  for (const auto& r : *rows)
    items.push_back(select_fields(to_resource(r), *l));
  return json_response(200, collection_body(cron_triggers_listing(), *l, std::move(items), req.host_url()));
}

std::string ids_of(const std::vector<record>& rows) {
  std::string out;
  for (const auto& r : rows)
    out += (out.empty() ? "" : ", ") + r.value("id", "");
  return out;
}

} // namespace

std::optional<error> workflow_delete_blocked(persistence::database& db, const std::string& workflow_id,
                                             const std::string& identifier, const std::string& ns) {
  persistence::list_query q;
  q.filters.push_back(filter{"workflow_id", filter_op::eq, {workflow_id}});
  q.sort.push_back({"created_at", false});
  q.sort.push_back({"id", false});
  auto crons = db.list(persistence::cron_triggers_table(), q);
  if (!crons.ok())
    return crons.err();
  if (!crons->empty())
    return error(errc::invalid_input, "Can't delete workflow that has cron triggers associated. "
                                      "[workflow_identifier=" +
                                        identifier + ", namespace=" + ns +
                                        "], [cron_trigger_id(s)=" + ids_of(*crons) + "]");
  auto events = db.list(persistence::event_triggers_table(), q);
  if (!events.ok())
    return events.err();
  if (!events->empty())
    return error(errc::invalid_input,
                 "Can't delete workflow that has event triggers associated. [workflow_identifier=" +
                   identifier + "], [event_trigger_id(s)=" + ids_of(*events) + "]");
  return std::nullopt;
}

void add_cron_trigger_routes(router& r, std::shared_ptr<api_context> ctx) {
  r.add("GET", "/v2/cron_triggers",
        [ctx](const http_request& req, const route_params&, responder respond) { respond(list(*ctx, req)); });
  r.add(
    "GET", "/v2/cron_triggers/{id}",
    [ctx](const http_request&, const route_params& p, responder respond) { respond(get(*ctx, p.at("id"))); });
  r.add("POST", "/v2/cron_triggers", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(create(*ctx, req));
  });
  r.add("DELETE", "/v2/cron_triggers/{id}",
        [ctx](const http_request&, const route_params& p, responder respond) {
          respond(remove(*ctx, p.at("id")));
        });
}

} // namespace mistral::api

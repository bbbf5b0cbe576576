#include "api/event_triggers_controller.hpp"

#include "api/definitions_common.hpp"
#include "api/listing.hpp"
#include "api/rest.hpp"
#include "api/trigger_fields.hpp"
#include "common/uuid.hpp"
#include "dsl/parser.hpp"
#include "dsl/py_repr.hpp"
#include "persistence/definition_stores.hpp"
#include "persistence/trigger_tables.hpp"

namespace mistral::api {

namespace {

using persistence::filter;
using persistence::filter_op;
using persistence::record;

const std::vector<std::string>& event_trigger_fields() {
  static const std::vector<std::string> fields = {
    "id",       "created_at",  "updated_at",     "project_id",
    "name",     "workflow_id", "workflow_input", "workflow_params",
    "exchange", "topic",       "event",          "scope"};
  return fields;
}

const listing_spec& event_triggers_listing() {
  static const listing_spec spec{"event_triggers", event_trigger_fields(), {}, {"all_projects"}, {}};
  return spec;
}

json to_resource(const record& r) {
  json out = json::object();
  out["id"] = r["id"];
  out["created_at"] = time_field(r["created_at"]);
  out["updated_at"] = time_field(r["updated_at"]);
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["name"] = r["name"];
  out["workflow_id"] = r["workflow_id"];
  out["workflow_input"] = json_string_field(r["workflow_input"]);
  out["workflow_params"] = json_string_field(r["workflow_params"]);
  out["exchange"] = r["exchange"];
  out["topic"] = r["topic"];
  out["event"] = r["event"];
  out["scope"] = r["scope"];
  return out;
}

error uuid_error(const std::string& field, const std::string& value) {
  return error(errc::invalid_input, "Invalid input for field/attribute " + field + ". Value: '" + value +
                                      "'. unable to convert to uuid. Error: Expected a uuid but received " +
                                      value + ".");
}

error not_found(const std::string& id) {
  return error(errc::not_found, "Event trigger not found [id=" + id + "].");
}

result<record> find_trigger(api_context& ctx, const std::string& id) {
  if (!uuid_like(id))
    return uuid_error("id", id);
  auto row = ctx.db->find_one(persistence::event_triggers_table(), {filter{"id", filter_op::eq, {id}}});
  if (!row.ok())
    return std::move(row).err();
  if (!row->has_value())
    return not_found(id);
  return **row;
}

bool truthy(const json& body, const char* key) {
  if (!body.contains(key))
    return false;
  const json& v = body[key];
  return !(v.is_null() || (v.is_string() && v.get<std::string>().empty()) || (v.is_object() && v.empty()));
}

// The WSME checks of an EventTrigger body: known, writable attributes of the
// right types. `fields` receives the stored form of what was given.
std::optional<error> read_body(const http_request& req, const json& body, record& fields) {
  if (auto bad = check_body_attributes(body, event_trigger_fields(), "event_trigger"))
    return bad;
  for (const char* ro : {"id", "created_at", "updated_at", "project_id"})
    if (body.contains(ro) && !body[ro].is_null())
      return error(errc::invalid_input, std::string("Invalid input for field/attribute ") + ro +
                                          ". Value: '" + dsl::py_str(body[ro]) +
                                          "'. Cannot set read only field.");
  if (body.contains("workflow_id") && !body["workflow_id"].is_null()) {
    std::string id =
      body["workflow_id"].is_string() ? body["workflow_id"].get<std::string>() : body["workflow_id"].dump();
    if (!uuid_like(id))
      return error(errc::invalid_input, "Expected a uuid but received " + id + ".");
    fields["workflow_id"] = id;
  }
  for (const char* key : {"workflow_input", "workflow_params"}) {
    if (!body.contains(key) || body[key].is_null())
      continue;
    auto v = json_type_field(body[key], key);
    if (!v.ok())
      return v.err();
    fields[key] = *v;
  }
  for (const char* key : {"name", "exchange", "topic", "event"})
    if (body.contains(key) && !body[key].is_null())
      fields[key] = body[key].is_string() ? body[key] : json(body[key].dump());
  if (body.contains("scope") && !body["scope"].is_null()) {
    auto scope = scope_field(req, body);
    if (!scope.ok())
      return scope.err();
    if (*scope == "public" && !is_admin(req))
      return error(errc::forbidden, "Operation forbidden (insufficient permissions)");
    fields["scope"] = *scope;
  }
  return std::nullopt;
}

http_response create(api_context& ctx, const http_request& req) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return wsme_fault(body.err());
  if (!body->is_object())
    return wsme_fault(body_not_a_dict(*body));
  record given = json::object();
  if (auto bad = read_body(req, *body, given))
    return wsme_fault(*bad);
  for (const char* key : {"exchange", "topic", "event", "workflow_id"})
    if (!truthy(*body, key))
      return wsme_fault(400, "Params {'workflow_id', 'exchange', 'event', 'topic'} must be provided for "
                             "creating event trigger.");
  const std::string workflow_id = given["workflow_id"];
  persistence::workflow_definition_store workflows(ctx.db);
  auto wf = workflows.get_by_id(workflow_id);
  if (!wf.ok())
    return wsme_fault(wf.err());
  if (!wf->has_value())
    return wsme_fault(404, "Workflow not found [workflow_id=" + workflow_id + "]");
  auto spec = dsl::workflow_from_raw((**wf)["spec"]);
  if (!spec.ok())
    return wsme_fault(400, spec.err().message);
  json input = given.value("workflow_input", json::object());
  if (!input.is_object())
    input = json::object();
  if (auto bad = dsl::check_workflow_input(*spec, input))
    return wsme_fault(400, bad->message);
  json params = given.value("workflow_params", json::object());
  record row = {{"id", make_uuid()},
                {"name", given.value("name", json(""))},
                {"workflow_id", workflow_id},
                {"workflow_input", input},
                {"workflow_params", params.is_object() ? params : json::object()},
                {"exchange", given["exchange"]},
                {"topic", given["topic"]},
                {"event", given["event"]},
                {"scope", given.value("scope", json("private"))},
                {"project_id", default_project},
                {"created_at", ctx.clock->now()},
                {"updated_at", nullptr}};
  auto done = ctx.db->insert(persistence::event_triggers_table(), row);
  if (!done.ok()) {
    if (done.err().code == errc::conflict)
      return wsme_fault(409, "Duplicate entry for EventTrigger ['exchange', 'topic', 'event', 'workflow_id', "
                             "'project_id']: " +
                               row["exchange"].get<std::string>() + ", " + row["topic"].get<std::string>() +
                               ", " + row["event"].get<std::string>() + ", " + workflow_id + ", None");
    return wsme_fault(done.err());
  }
  return json_response(201, to_resource(row));
}

http_response update(api_context& ctx, const http_request& req, const std::string& id) {
  if (!uuid_like(id))
    return wsme_fault(uuid_error("id", id));
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return wsme_fault(body.err());
  if (!body->is_object())
    return wsme_fault(body_not_a_dict(*body));
  record changes = json::object();
  if (auto bad = read_body(req, *body, changes))
    return wsme_fault(*bad);
  for (const char* key : {"exchange", "topic", "event"})
    if (truthy(*body, key))
      return wsme_fault(400, "Can not update fields ['exchange', 'topic', 'event'] of event trigger.");
  auto row = find_trigger(ctx, id);
  if (!row.ok())
    return wsme_fault(row.err());
  changes["updated_at"] = ctx.clock->now();
  auto done =
    ctx.db->update(persistence::event_triggers_table(), {filter{"id", filter_op::eq, {id}}}, changes);
  if (!done.ok())
    return wsme_fault(done.err());
  auto updated = find_trigger(ctx, id);
  if (!updated.ok())
    return wsme_fault(updated.err());
  return json_response(200, to_resource(*updated));
}

http_response get(api_context& ctx, const std::string& id) {
  auto row = find_trigger(ctx, id);
  if (!row.ok())
    return wsme_fault(row.err());
  return json_response(200, to_resource(*row));
}

http_response remove(api_context& ctx, const std::string& id) {
  auto row = find_trigger(ctx, id);
  if (!row.ok())
    return wsme_fault(row.err());
  auto done = ctx.db->remove(persistence::event_triggers_table(), {filter{"id", filter_op::eq, {id}}});
  if (!done.ok())
    return wsme_fault(done.err());
  return no_content();
}

http_response list(api_context& ctx, const http_request& req) {
  // get_all(**filters): any filter argument fails inside Mistral 15's
  // filter helper (LIVE), so only the paging arguments are usable.
  static const std::vector<std::string> known = {"marker",    "limit",  "sort_keys",
                                                 "sort_dirs", "fields", "all_projects"};
  for (const auto& [name, value] : req.query)
    if (std::find(known.begin(), known.end(), name) == known.end())
      return wsme_fault(500, "'NoneType' object has no attribute 'datatype'");
  auto marker = req.query_value("marker");
  if (marker && !uuid_like(*marker))
    return wsme_fault(uuid_error("marker", *marker));
  auto l = parse_listing(req, event_triggers_listing());
  if (!l.ok())
    return listing_fault(l.err());
  if (flag_set(req, "all_projects") && !is_admin(req))
    return wsme_fault(403, "Operation forbidden (insufficient permissions)");
  if (marker) {
    auto found = find_trigger(ctx, *marker);
    if (!found.ok())
      return wsme_fault(found.err());
  }
  auto rows = ctx.db->list(persistence::event_triggers_table(), l->query);
  if (!rows.ok())
    return wsme_fault(rows.err());
  json items = json::array();
  for (const auto& r : *rows)
    items.push_back(select_fields(to_resource(r), *l));
  return json_response(200, collection_body(event_triggers_listing(), *l, std::move(items), req.host_url()));
}

} // namespace

void add_event_trigger_routes(router& r, std::shared_ptr<api_context> ctx) {
  r.add("GET", "/v2/event_triggers",
        [ctx](const http_request& req, const route_params&, responder respond) { respond(list(*ctx, req)); });
  r.add(
    "GET", "/v2/event_triggers/{id}",
    [ctx](const http_request&, const route_params& p, responder respond) { respond(get(*ctx, p.at("id"))); });
  r.add("POST", "/v2/event_triggers", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(create(*ctx, req));
  });
  r.add("PUT", "/v2/event_triggers/{id}",
        [ctx](const http_request& req, const route_params& p, responder respond) {
          respond(update(*ctx, req, p.at("id")));
        });
  r.add("DELETE", "/v2/event_triggers/{id}",
        [ctx](const http_request&, const route_params& p, responder respond) {
          respond(remove(*ctx, p.at("id")));
        });
}

} // namespace mistral::api

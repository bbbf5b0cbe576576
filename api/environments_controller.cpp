#include "api/environments_controller.hpp"

#include "api/listing.hpp"
#include "api/rest.hpp"
#include "common/py_json.hpp"
#include "common/uuid.hpp"
#include "persistence/definition_stores.hpp"

namespace mistral::api {

namespace {

using persistence::record;

const listing_spec& environments_listing() {
  static const listing_spec spec{
    "environments",
    {"id", "name", "description", "variables", "scope", "project_id", "created_at", "updated_at"},
    {"name", "description", "variables", "scope", "created_at", "updated_at"},
    {},
    {},
  };
  return spec;
}

json to_resource(const record& r, bool omit_null_updated = false) {
  json out = json::object();
  out["id"] = r["id"];
  out["name"] = r["name"];
  out["description"] = r["description"];
  out["variables"] = r["variables"].is_null() ? json(nullptr) : json(python_json_dumps(r["variables"]));
  out["scope"] = r["scope"];
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["created_at"] = time_field(r["created_at"]);
  out["updated_at"] = time_field(r["updated_at"]);
  if (omit_null_updated && out["updated_at"].is_null())
    out.erase("updated_at");
  return out;
}

error not_found(const std::string& name) {
  return error(errc::not_found, "Environment not found [name=" + name + "]");
}

// Checks the body keys the way WSME and EnvironmentController do.
std::optional<error> check_keys(const json& body, const std::vector<std::string>& legal) {
  const auto& fields = environments_listing().fields;
  for (auto it = body.begin(); it != body.end(); ++it)
    if (std::find(fields.begin(), fields.end(), it.key()) == fields.end())
      return error(errc::invalid_input, "Unknown attribute for argument env: " + it.key());
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (std::find(legal.begin(), legal.end(), it.key()) == legal.end()) {
      std::string list;
      for (const auto& k : legal)
        list += (list.empty() ? "'" : ", '") + k + "'";
      return error(errc::invalid_input, "Please, check your environment definition. Only: [" + list +
                                          "] are allowed as definition keys.");
    }
  }
  return std::nullopt;
}

// Validates the writable fields of a body into `row`.
std::optional<error> read_fields(const http_request& req, const json& body, record& row) {
  if (body.contains("description")) {
    if (!body["description"].is_string() && !body["description"].is_null())
      return error(errc::invalid_input, "Invalid input for field/attribute description.");
    row["description"] = body["description"];
  }
  if (body.contains("variables")) {
    auto vars = json_type_field(body["variables"], "variables");
    if (!vars.ok())
      return std::move(vars).err();
    row["variables"] = *vars;
  }
  if (body.contains("scope") && !body["scope"].is_null()) {
    const auto& s = body["scope"];
    if (!s.is_string() || (s != "private" && s != "public"))
      return error(errc::invalid_input, "Invalid input for field/attribute scope. Value: '" +
                                          (s.is_string() ? s.get<std::string>() : s.dump()) +
                                          "'. Value should be one of: private, public");
    if (s == "public" && !is_admin(req))
      return error(errc::forbidden, "Operation forbidden (insufficient permissions)");
    row["scope"] = s;
  }
  return std::nullopt;
}

http_response list(api_context& ctx, const http_request& req) {
  auto l = parse_listing(req, environments_listing());
  if (!l.ok())
    return wsme_fault(l.err());
  persistence::environment_store store(ctx.db);
  auto rows = store.list(l->query);
  if (!rows.ok())
    return wsme_fault(rows.err());
  json items = json::array();
  for (const auto& r : *rows)
    items.push_back(select_fields(to_resource(r), *l));
  return json_response(200, collection_body(environments_listing(), *l, std::move(items), req.host_url()));
}

http_response get(api_context& ctx, const std::string& name) {
  persistence::environment_store store(ctx.db);
  auto row = store.get_by_name(name);
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(not_found(name));
  return json_response(200, to_resource(**row));
}

http_response create(api_context& ctx, const http_request& req) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return wsme_fault(body.err());
  if (!body->is_object())
    return wsme_fault(400, "Invalid input for field/attribute env.");
  if (auto bad = check_keys(*body, {"name", "description", "variables", "scope"}))
    return wsme_fault(*bad);
  record row = {{"id", make_uuid()},
                {"name", body->value("name", json(nullptr))},
                {"description", nullptr},
                {"variables", nullptr},
                {"scope", "private"},
                {"project_id", default_project},
                {"created_at", ctx.clock->now()},
                {"updated_at", nullptr}};
  if (!row["name"].is_string() || row["name"].get<std::string>().empty())
    return wsme_fault(400, "Name of the environment is not provided.");
  if (auto bad = read_fields(req, *body, row))
    return wsme_fault(*bad);
  persistence::environment_store store(ctx.db);
  auto done = store.create(row);
  if (!done.ok()) {
    if (done.err().code == errc::conflict)
      return wsme_fault(409, "Duplicate entry for Environment ['name', 'project_id']: " +
                               row["name"].get<std::string>() + ", None");
    return wsme_fault(done.err());
  }
  return json_response(201, to_resource(row, true));
}

http_response update(api_context& ctx, const http_request& req) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return wsme_fault(body.err());
  if (!body->is_object())
    return wsme_fault(400, "Invalid input for field/attribute env.");
  if (!body->contains("name") || !(*body)["name"].is_string() || (*body)["name"].get<std::string>().empty())
    return wsme_fault(400, "Name of the environment is not provided.");
  std::string name = (*body)["name"];
  json rest = *body;
  rest.erase("name");
  if (auto bad = check_keys(rest, {"description", "variables", "scope"}))
    return wsme_fault(*bad);
  record changes = json::object();
  if (auto bad = read_fields(req, rest, changes))
    return wsme_fault(*bad);
  changes["updated_at"] = ctx.clock->now();
  persistence::environment_store store(ctx.db);
  auto existing = store.get_by_name(name);
  if (!existing.ok())
    return wsme_fault(existing.err());
  if (!existing->has_value())
    return wsme_fault(not_found(name));
  auto done = store.update((**existing)["id"], changes);
  if (!done.ok())
    return wsme_fault(done.err());
  return get(ctx, name);
}

http_response remove(api_context& ctx, const std::string& name) {
  persistence::environment_store store(ctx.db);
  auto existing = store.get_by_name(name);
  if (!existing.ok())
    return wsme_fault(existing.err());
  if (!existing->has_value())
    return wsme_fault(not_found(name));
  auto done = store.remove((**existing)["id"]);
  if (!done.ok())
    return wsme_fault(done.err());
  http_response r;
  r.status = 204;
  r.content_type = "application/json";
  return r;
}

} // namespace

void add_environment_routes(router& r, std::shared_ptr<api_context> ctx) {
  r.add("GET", "/v2/environments",
        [ctx](const http_request& req, const route_params&, responder respond) { respond(list(*ctx, req)); });
  r.add("GET", "/v2/environments/{name}",
        [ctx](const http_request&, const route_params& p, responder respond) {
          respond(get(*ctx, p.at("name")));
        });
  r.add("POST", "/v2/environments", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(create(*ctx, req));
  });
  r.add("PUT", "/v2/environments", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(update(*ctx, req));
  });
  r.add("DELETE", "/v2/environments/{name}",
        [ctx](const http_request&, const route_params& p, responder respond) {
          respond(remove(*ctx, p.at("name")));
        });
}

} // namespace mistral::api

#include "api/code_sources_controller.hpp"

#include "actors/action/catalog.hpp"
#include "api/definitions_common.hpp"
#include "api/listing.hpp"
#include "api/rest.hpp"
#include "api/trigger_fields.hpp"
#include "common/uuid.hpp"
#include "persistence/trigger_tables.hpp"

namespace mistral::api {

namespace {

using persistence::filter;
using persistence::filter_op;
using persistence::record;

const char* forbidden_text = "Operation forbidden (insufficient permissions)";

const listing_spec& code_sources_listing() {
  static const listing_spec spec{"code_sources",
                                 {"id", "name", "namespace", "content", "version", "project_id", "scope",
                                  "actions", "created_at", "updated_at"},
                                 {"name", "scope", "project_id", "created_at", "updated_at", "namespace"},
                                 {"all_projects"},
                                 {"tags"}};
  return spec;
}

const listing_spec& dynamic_actions_listing() {
  static const listing_spec spec{"dynamic_actions",
                                 {"id", "name", "namespace", "code_source_id", "code_source_name",
                                  "class_name", "project_id", "scope", "created_at", "updated_at"},
                                 {"name", "scope", "project_id", "created_at", "updated_at", "namespace"},
                                 {"all_projects", "tags"},
                                 {}};
  return spec;
}

json code_source_resource(const record& r) {
  json out = json::object();
  for (const char* k : {"id", "name", "namespace", "content", "version"})
    out[k] = r[k];
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["scope"] = r["scope"];
  out["created_at"] = time_field(r["created_at"]);
  out["updated_at"] = time_field(r["updated_at"]);
  return out;
}

// Pecan's to_json(): null fields are left out.
json without_nulls(json j) {
  for (auto it = j.begin(); it != j.end();)
    it = it.value().is_null() ? j.erase(it) : std::next(it);
  return j;
}

json dynamic_action_resource(const record& r) {
  json out = json::object();
  for (const char* k : {"id", "name", "namespace", "code_source_id", "code_source_name", "class_name"})
    out[k] = r[k];
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["scope"] = r["scope"];
  out["created_at"] = time_field(r["created_at"]);
  out["updated_at"] = time_field(r["updated_at"]);
  return out;
}

// _get_db_object_by_name_and_namespace_or_id: the id, or the name in `ns`.
result<record> find_by_identifier(api_context& ctx, const persistence::table_def& table,
                                  const std::string& identifier, const std::string& ns,
                                  const std::string& what) {
  auto by_id = ctx.db->find_one(table, {filter{"id", filter_op::eq, {identifier}}});
  if (!by_id.ok())
    return std::move(by_id).err();
  if (by_id->has_value())
    return **by_id;
  auto by_name = ctx.db->find_one(
    table, {filter{"name", filter_op::eq, {identifier}}, filter{"namespace", filter_op::eq, {ns}}});
  if (!by_name.ok())
    return std::move(by_name).err();
  if (by_name->has_value())
    return **by_name;
  return error(errc::not_found, what + " not found [name=" + identifier + ",namespace=" + ns + "]");
}

http_response empty_500() {
  http_response r;
  r.status = 500;
  r.content_type = "text/plain";
  return r;
}

// ---- code sources ----------------------------------------------------------

http_response create_code_source(api_context& ctx, const http_request& req) {
  if (!is_admin(req))
    return pecan_fault(403, forbidden_text);
  auto name = req.query_value("name");
  std::string scope = query_or(req, "scope", "private");
  if (!name || (scope != "private" && scope != "public"))
    return empty_500();
  record row = {{"id", make_uuid()},
                {"name", *name},
                {"namespace", query_or(req, "namespace")},
                {"content", req.body},
                {"version", 1},
                {"tags", nullptr},
                {"scope", scope},
                {"project_id", default_project},
                {"created_at", ctx.clock->now()},
                {"updated_at", nullptr}};
  auto done = ctx.db->insert(persistence::code_sources_table(), row);
  if (!done.ok()) {
    if (done.err().code == errc::conflict)
      return pecan_fault(409, "Duplicate entry for CodeSource ['name', 'namespace', 'project_id']: " + *name +
                                ", " + row["namespace"].get<std::string>() + ", None");
    return pecan_fault(done.err());
  }
  return json_response(201, without_nulls(code_source_resource(row)));
}

http_response update_code_source(api_context& ctx, const http_request& req, const std::string& identifier) {
  if (!is_admin(req))
    return pecan_fault(403, forbidden_text);
  std::string scope = query_or(req, "scope", "private");
  if (scope != "private" && scope != "public")
    return empty_500();
  auto row = find_by_identifier(ctx, persistence::code_sources_table(), identifier,
                                query_or(req, "namespace"), "Code Source");
  if (!row.ok())
    return pecan_fault(row.err());
  record changes = {{"content", req.body},
                    {"scope", scope},
                    {"version", row->value("version", std::int64_t{1}) + 1},
                    {"updated_at", ctx.clock->now()}};
  auto done =
    ctx.db->update(persistence::code_sources_table(), {filter{"id", filter_op::eq, {(*row)["id"]}}}, changes);
  if (!done.ok())
    return pecan_fault(done.err());
  for (auto it = changes.begin(); it != changes.end(); ++it)
    (*row)[it.key()] = it.value();
  return json_response(200, without_nulls(code_source_resource(*row)));
}

http_response get_code_source(api_context& ctx, const http_request& req, const std::string& identifier) {
  if (!is_admin(req))
    return wsme_fault(403, forbidden_text);
  auto row = find_by_identifier(ctx, persistence::code_sources_table(), identifier,
                                query_or(req, "namespace"), "Code Source");
  if (!row.ok())
    return wsme_fault(row.err());
  return json_response(200, code_source_resource(*row));
}

http_response delete_code_source(api_context& ctx, const http_request& req, const std::string& identifier) {
  if (!is_admin(req))
    return wsme_fault(403, forbidden_text);
  auto row = find_by_identifier(ctx, persistence::code_sources_table(), identifier,
                                query_or(req, "namespace"), "Code Source");
  if (!row.ok())
    return wsme_fault(row.err());
  // The dynamic actions of the source go with it (ON DELETE CASCADE upstream).
  using op = persistence::write_op;
  auto done = ctx.db->write_batch({{op::kind::remove,
                                    &persistence::dynamic_actions_table(),
                                    {},
                                    {filter{"code_source_id", filter_op::eq, {(*row)["id"]}}}},
                                   {op::kind::remove,
                                    &persistence::code_sources_table(),
                                    {},
                                    {filter{"id", filter_op::eq, {(*row)["id"]}}}}});
  if (!done.ok())
    return wsme_fault(done.err());
  return no_content();
}

template <class Shape>
http_response list_rows(api_context& ctx, const http_request& req, const listing_spec& spec,
                        const persistence::table_def& table, Shape shape) {
  if (!is_admin(req))
    return wsme_fault(403, forbidden_text);
  if (auto bad = invalid_marker(req))
    return *bad;
  auto marker = req.query_value("marker");
  auto l = parse_listing(req, spec);
  if (!l.ok())
    return listing_fault(l.err());
  if (marker) {
    auto found = ctx.db->find_one(table, {filter{"id", filter_op::eq, {*marker}}});
    if (!found.ok())
      return wsme_fault(found.err());
    if (!found->has_value())
      return wsme_fault(404, "Marker not found [id=" + *marker + "]");
  }
  auto rows = ctx.db->list(table, l->query);
  if (!rows.ok())
    return wsme_fault(rows.err());
  json items = json::array();
  for (const auto& r : *rows)
    items.push_back(select_fields(shape(r), *l));
  return json_response(200, collection_body(spec, *l, std::move(items), req.host_url()));
}

// ---- dynamic actions -------------------------------------------------------

/// The std action a class name designates, or null.
const action::std_action* bound_class(const std::string& class_name) {
  for (const auto& a : action::std_actions()) {
    const std::string& full = a.class_name;
    auto dot = full.rfind('.');
    if (class_name == full || (dot != std::string::npos && class_name == full.substr(dot + 1)))
      return &a;
  }
  return nullptr;
}

std::optional<error> check_class(const json& class_name) {
  std::string text = class_name.is_string() ? class_name.get<std::string>() : "";
  if (bound_class(text))
    return std::nullopt;
  return error(errc::invalid_input,
               "Dynamic action class '" + (class_name.is_null() ? std::string("None") : text) +
                 "' cannot be used: this server runs no Python code, so a dynamic action may only bind to a "
                 "std action class such as 'EchoAction' or 'mistral.actions.std_actions.EchoAction'.");
}

struct dynamic_body {
  json body;
  std::string ns;
};

result<dynamic_body> read_dynamic_body(const http_request& req) {
  auto body = parse_json_body(req.body);
  if (!body.ok())
    return std::move(body).err();
  if (!body->is_object())
    return body_not_a_dict(*body);
  if (auto bad = check_body_attributes(*body, dynamic_actions_listing().fields, "dyn_action"))
    return *bad;
  auto scope = scope_field(req, *body);
  if (!scope.ok())
    return std::move(scope).err();
  std::string ns = body->value("namespace", json("")).is_string() ? body->value("namespace", "") : "";
  return dynamic_body{*body, ns};
}

result<record> code_source_of(api_context& ctx, const json& body, const std::string& ns) {
  json ref = body.value("code_source_id", json(nullptr));
  if (ref.is_null() || (ref.is_string() && ref.get<std::string>().empty()))
    ref = body.value("code_source_name", json(nullptr));
  return find_by_identifier(ctx, persistence::code_sources_table(),
                            ref.is_string() ? ref.get<std::string>() : "", ns, "Code Source");
}

http_response create_dynamic_action(api_context& ctx, const http_request& req) {
  if (!is_admin(req))
    return wsme_fault(403, forbidden_text);
  auto in = read_dynamic_body(req);
  if (!in.ok())
    return wsme_fault(in.err());
  const json& body = in->body;
  if (body.value("scope", json("private")) == "public" && !is_admin(req))
    return wsme_fault(403, forbidden_text);
  auto non_empty = [&](const char* k) {
    return body.contains(k) && body[k].is_string() && !body[k].get<std::string>().empty();
  };
  if (!non_empty("code_source_id") && !non_empty("code_source_name"))
    return wsme_fault(400, "Either 'code_source_id' or 'code_source_name' must be provided.");
  if (!non_empty("name"))
    return wsme_fault(400, "Invalid input for field/attribute name. Value: 'None'. Mandatory field missing.");
  auto source = code_source_of(ctx, body, in->ns);
  if (!source.ok())
    return wsme_fault(source.err());
  if (auto bad = check_class(body.value("class_name", json(nullptr))))
    return wsme_fault(*bad);
  record row = {
    {"id", make_uuid()},
    {"name", body["name"]},
    {"namespace", in->ns},
    {"class_name", body.value("class_name", json())},
    {"code_source_id", (*source)["id"]},
    {"code_source_name", (*source)["name"]},
    {"scope", body.value("scope", json(nullptr)).is_null() ? json("private") : body.value("scope", json())},
    {"project_id", default_project},
    {"created_at", ctx.clock->now()},
    {"updated_at", nullptr}};
  auto done = ctx.db->insert(persistence::dynamic_actions_table(), row);
  if (!done.ok()) {
    if (done.err().code == errc::conflict)
      return wsme_fault(
        409, "Duplicate entry for dynamic action definition [name=" + row["name"].get<std::string>() +
               ", namespace=" + in->ns + ", project_id=None]");
    return wsme_fault(done.err());
  }
  json out = dynamic_action_resource(row);
  out.erase("updated_at");
  return json_response(201, out);
}

http_response update_dynamic_action(api_context& ctx, const http_request& req) {
  if (!is_admin(req))
    return wsme_fault(403, forbidden_text);
  auto in = read_dynamic_body(req);
  if (!in.ok())
    return wsme_fault(in.err());
  const json& body = in->body;
  json identifier = body.value("id", json(nullptr));
  if (!identifier.is_string() || identifier.get<std::string>().empty())
    identifier = body.value("name", json(nullptr));
  if (!identifier.is_string() || identifier.get<std::string>().empty())
    return wsme_fault(400, "Either 'name' or 'id' must be provided.");
  record changes = {{"class_name", body.value("class_name", json(nullptr))}};
  if (body.contains("scope") && !body["scope"].is_null())
    changes["scope"] = body["scope"];
  bool new_source = (body.value("code_source_id", json(nullptr)).is_string() &&
                     !body["code_source_id"].get<std::string>().empty()) ||
                    (body.value("code_source_name", json(nullptr)).is_string() &&
                     !body["code_source_name"].get<std::string>().empty());
  if (new_source) {
    auto source = code_source_of(ctx, body, in->ns);
    if (!source.ok())
      return wsme_fault(source.err());
    changes["code_source_id"] = (*source)["id"];
    changes["code_source_name"] = (*source)["name"];
  }
  auto row = find_by_identifier(ctx, persistence::dynamic_actions_table(), identifier.get<std::string>(),
                                in->ns, "Dynamic Action");
  if (!row.ok())
    return wsme_fault(row.err());
  if (auto bad = check_class(changes["class_name"]))
    return wsme_fault(*bad);
  changes["updated_at"] = ctx.clock->now();
  auto done = ctx.db->update(persistence::dynamic_actions_table(),
                             {filter{"id", filter_op::eq, {(*row)["id"]}}}, changes);
  if (!done.ok())
    return wsme_fault(done.err());
  for (auto it = changes.begin(); it != changes.end(); ++it)
    (*row)[it.key()] = it.value();
  return json_response(200, dynamic_action_resource(*row));
}

http_response get_dynamic_action(api_context& ctx, const http_request& req, const std::string& identifier) {
  if (!is_admin(req))
    return wsme_fault(403, forbidden_text);
  auto row = find_by_identifier(ctx, persistence::dynamic_actions_table(), identifier,
                                query_or(req, "namespace"), "Dynamic Action");
  if (!row.ok())
    return wsme_fault(row.err());
  return json_response(200, dynamic_action_resource(*row));
}

http_response delete_dynamic_action(api_context& ctx, const http_request& req,
                                    const std::string& identifier) {
  if (!is_admin(req))
    return wsme_fault(403, forbidden_text);
  auto row = find_by_identifier(ctx, persistence::dynamic_actions_table(), identifier,
                                query_or(req, "namespace"), "Dynamic Action");
  if (!row.ok())
    return wsme_fault(row.err());
  auto done =
    ctx.db->remove(persistence::dynamic_actions_table(), {filter{"id", filter_op::eq, {(*row)["id"]}}});
  if (!done.ok())
    return wsme_fault(done.err());
  return no_content();
}

} // namespace

std::vector<bound_dynamic_action> bound_dynamic_actions(persistence::database& db,
                                                        const std::optional<std::string>& name,
                                                        const std::string& ns) {
  persistence::list_query q;
  if (name) {
    q.filters.push_back(filter{"name", filter_op::eq, {*name}});
    q.filters.push_back(filter{"namespace", filter_op::eq, {ns}});
  }
  q.sort.push_back({"created_at", false});
  std::vector<bound_dynamic_action> out;
  auto rows = db.list(persistence::dynamic_actions_table(), q);
  if (!rows.ok())
    return out;
  for (auto& r : *rows)
    if (const auto* a = bound_class(r.value("class_name", "")))
      out.push_back({std::move(r), a});
  return out;
}

json dynamic_action_listing_resource(const bound_dynamic_action& a) {
  json out = json::object();
  out["id"] = a.row["name"];
  out["name"] = a.row["name"];
  out["is_system"] = false;
  out["input"] = a.bound->input;
  out["description"] = a.bound->description;
  out["tags"] = nullptr;
  out["definition"] = "";
  out["scope"] = a.row["scope"];
  out["project_id"] = a.row["project_id"].is_null() ? json(default_project) : a.row["project_id"];
  out["created_at"] = "";
  out["updated_at"] = "";
  out["namespace"] = a.row["namespace"];
  return out;
}

namespace {

template <class F>
handler bind(std::shared_ptr<api_context> ctx, F f) {
  return
    [ctx, f](const http_request& req, const route_params& p, responder respond) { respond(f(*ctx, req, p)); };
}

} // namespace

void add_code_source_routes(router& r, std::shared_ptr<api_context> ctx) {
  using P = const route_params&;
  using Q = const http_request&;
  r.add("GET", "/v2/code_sources", bind(ctx, [](api_context& c, Q q, P) {
          return list_rows(c, q, code_sources_listing(), persistence::code_sources_table(),
                           code_source_resource);
        }));
  r.add("POST", "/v2/code_sources",
        bind(ctx, [](api_context& c, Q q, P) { return create_code_source(c, q); }));
  r.add("GET", "/v2/code_sources/{id}",
        bind(ctx, [](api_context& c, Q q, P p) { return get_code_source(c, q, p.at("id")); }));
  // python-mistralclient sends the identifier as a query argument.
  r.add("PUT", "/v2/code_sources", bind(ctx, [](api_context& c, Q q, P) {
          auto id = q.query_value("identifier");
          if (!id)
            return is_admin(q) ? empty_500() : pecan_fault(403, forbidden_text);
          return update_code_source(c, q, *id);
        }));
  r.add("PUT", "/v2/code_sources/{id}",
        bind(ctx, [](api_context& c, Q q, P p) { return update_code_source(c, q, p.at("id")); }));
  r.add("DELETE", "/v2/code_sources/{id}",
        bind(ctx, [](api_context& c, Q q, P p) { return delete_code_source(c, q, p.at("id")); }));
  r.add("GET", "/v2/dynamic_actions", bind(ctx, [](api_context& c, Q q, P) {
          return list_rows(c, q, dynamic_actions_listing(), persistence::dynamic_actions_table(),
                           dynamic_action_resource);
        }));
  r.add("POST", "/v2/dynamic_actions",
        bind(ctx, [](api_context& c, Q q, P) { return create_dynamic_action(c, q); }));
  r.add("PUT", "/v2/dynamic_actions",
        bind(ctx, [](api_context& c, Q q, P) { return update_dynamic_action(c, q); }));
  r.add("GET", "/v2/dynamic_actions/{id}",
        bind(ctx, [](api_context& c, Q q, P p) { return get_dynamic_action(c, q, p.at("id")); }));
  r.add("DELETE", "/v2/dynamic_actions/{id}",
        bind(ctx, [](api_context& c, Q q, P p) { return delete_dynamic_action(c, q, p.at("id")); }));
}

} // namespace mistral::api

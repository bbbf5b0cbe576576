#include "api/workflows_controller.hpp"

#include "api/cron_triggers_controller.hpp"
#include "api/definitions_common.hpp"
#include "api/listing.hpp"
#include "api/rest.hpp"
#include "common/py_json.hpp"
#include "common/uuid.hpp"
#include "dsl/definition_text.hpp"
#include "dsl/parser.hpp"
#include "dsl/yaml_loader.hpp"
#include "persistence/definition_stores.hpp"

#include <algorithm>

namespace mistral::api {

namespace {

using persistence::record;

const listing_spec& workflows_listing() {
  static const listing_spec spec{
    "workflows",
    {"id", "name", "namespace", "input", "interface", "definition", "tags", "scope", "project_id",
     "created_at", "updated_at"},
    {"name", "input", "definition", "tags", "scope", "project_id", "created_at", "updated_at", "namespace"},
    {"all_projects"},
    {"tags"},
  };
  return spec;
}

/// How a resource is rendered: WSME (GET) or pecan's to_json (POST/PUT).
enum class shape { wsme, created, updated };

json to_resource(const record& r, shape s) {
  json out = json::object();
  out["id"] = r["id"];
  out["name"] = r["name"];
  out["namespace"] = text_or_null(r["namespace"]);
  out["input"] =
    workflow_input_text(r["spec"].is_object() ? r["spec"].value("input", json::array()) : json());
  json iface = workflow_interface(r["spec"]);
  out["interface"] = s == shape::wsme ? json(python_json_dumps(iface)) : iface;
  out["definition"] = text_or_null(r["definition"]);
  out["tags"] = r["tags"].is_null() ? json::array() : r["tags"];
  out["scope"] = text_or_null(r["scope"]);
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["created_at"] = time_field(r["created_at"]);
  // A just-inserted row has updated_at unloaded in SQLAlchemy: to_json() drops it.
  if (s != shape::created)
    out["updated_at"] = time_field(r["updated_at"]);
  return out;
}

error not_found(const std::string& identifier, const std::string& ns) {
  return error(errc::not_found,
               "Workflow not found [workflow_identifier=" + identifier + ", namespace=" + ns + "]",
               "DBEntityNotFoundError");
}

error duplicate(const std::string& name, const std::string& ns) {
  return error(errc::conflict,
               "Duplicate entry for WorkflowDefinition ['name', 'namespace', 'project_id']: " + name + ", " +
                 ns + ", None",
               "DBDuplicateEntryError");
}

// get_workflow_definition: the row whose id is `identifier`, or whose name
// is `identifier` in namespace `ns`.
result<std::optional<record>> find_workflow(persistence::workflow_definition_store& store,
                                            const std::string& identifier, const std::string& ns) {
  auto by_id = store.get_by_id(identifier);
  if (!by_id.ok() || by_id->has_value())
    return by_id;
  return store.get_by_name(identifier, ns);
}

/// One workflow of a posted document: its spec and the text stored for it.
struct parsed_workflow {
  dsl::workflow_spec spec;
  std::string definition;
};

// The text Mistral stores per workflow: the whole document for one
// workflow, else `version` plus that workflow re-dumped by PyYAML.
result<std::vector<parsed_workflow>> parse_document(const std::string& text) {
  auto specs = dsl::validate_workflows(text);
  if (!specs.ok())
    return std::move(specs).err();
  std::vector<parsed_workflow> out;
  if (specs->workflows.size() == 1) {
    out.push_back({specs->workflows.front(), text});
    return out;
  }
  auto loaded = dsl::load_yaml(text);
  if (!loaded.ok())
    return std::move(loaded).err();
  for (auto& wf : specs->workflows) {
    json doc = json::object();
    doc["version"] = loaded->value.value("version", json("2.0"));
    doc[wf.name] = loaded->value.contains(wf.name) ? loaded->value[wf.name] : wf.raw;
    out.push_back({wf, dsl::dump_yaml(doc)});
  }
  return out;
}

record row_values(const parsed_workflow& wf, const std::string& scope, const std::string& ns) {
  record r = json::object();
  r["name"] = wf.spec.name;
  r["tags"] = wf.spec.tags;
  r["definition"] = wf.definition;
  r["spec"] = wf.spec.raw;
  r["scope"] = scope;
  r["namespace"] = ns;
  r["is_system"] = false;
  r["input"] = workflow_input_text(wf.spec.raw.value("input", json::array()));
  return r;
}

http_response create(api_context& ctx, const http_request& req) {
  if (refuses_text_plain(req))
    return not_acceptable(req);
  auto scope = requested_scope(req);
  if (!scope.ok())
    return pecan_fault(scope.err());
  std::string ns = query_or(req, "namespace");
  auto wfs = parse_document(req.body);
  if (!wfs.ok())
    return dsl_fault(wfs.err());
  persistence::workflow_definition_store store(ctx.db);
  std::vector<record> created;
  for (const auto& wf : *wfs) {
    record row = row_values(wf, *scope, ns);
    row["id"] = make_uuid();
    row["project_id"] = default_project;
    row["created_at"] = ctx.clock->now();
    row["updated_at"] = nullptr;
    auto done = store.create(row);
    if (!done.ok()) {
      // One transaction in Mistral: undo what this request inserted.
      for (const auto& c : created)
        (void)store.remove(c["id"]);
      if (done.err().code == errc::conflict)
        return pecan_fault(duplicate(wf.spec.name, ns));
      return pecan_fault(done.err());
    }
    created.push_back(row);
  }
  json items = json::array();
  for (const auto& r : created)
    items.push_back(to_resource(r, shape::created));
  return json_response(201, json{{"workflows", items}});
}

http_response update(api_context& ctx, const http_request& req,
                     const std::optional<std::string>& identifier) {
  if (refuses_text_plain(req))
    return not_acceptable(req);
  auto scope = requested_scope(req);
  if (!scope.ok())
    return pecan_fault(scope.err());
  std::string ns = query_or(req, "namespace");
  auto wfs = parse_document(req.body);
  if (!wfs.ok())
    return dsl_fault(wfs.err());
  if (identifier && wfs->size() > 1)
    return pecan_fault(400,
                       "More than one workflows are not supported for update with identifier. [identifier: " +
                         *identifier + "]");
  persistence::workflow_definition_store store(ctx.db);
  // Look everything up first so that a 404 changes nothing (one transaction upstream).
  std::vector<std::pair<record, record>> plan;
  for (const auto& wf : *wfs) {
    std::string key = identifier ? *identifier : wf.spec.name;
    auto existing = find_workflow(store, key, ns);
    if (!existing.ok())
      return pecan_fault(existing.err());
    if (!existing->has_value())
      return pecan_fault(not_found(key, ns));
    plan.emplace_back(**existing, row_values(wf, *scope, ns));
  }
  json items = json::array();
  for (auto& [row, changes] : plan) {
    if (changes_row(row, changes))
      changes["updated_at"] = ctx.clock->now();
    auto done = store.update(row["id"], changes);
    if (!done.ok())
      return pecan_fault(done.err().code == errc::conflict ? duplicate(changes["name"], ns) : done.err());
    for (auto it = changes.begin(); it != changes.end(); ++it)
      row[it.key()] = it.value();
    items.push_back(to_resource(row, shape::updated));
  }
  if (identifier)
    return json_response(200, items.front());
  return json_response(200, json{{"workflows", items}});
}

http_response get(api_context& ctx, const http_request& req, const std::string& identifier) {
  std::string ns = query_or(req, "namespace");
  persistence::workflow_definition_store store(ctx.db);
  auto row = find_workflow(store, identifier, ns);
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(not_found(identifier, ns));
  return json_response(200, to_resource(**row, shape::wsme));
}

http_response remove(api_context& ctx, const http_request& req, const std::string& identifier) {
  std::string ns = query_or(req, "namespace");
  persistence::workflow_definition_store store(ctx.db);
  auto row = find_workflow(store, identifier, ns);
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(not_found(identifier, ns));
  if (auto blocked = workflow_delete_blocked(*ctx.db, (**row)["id"], identifier, ns))
    return wsme_fault(*blocked);
  auto done = store.remove((**row)["id"]);
  if (!done.ok())
    return wsme_fault(done.err());
  return no_content();
}

http_response list(api_context& ctx, const http_request& req) {
  if (auto bad = invalid_marker(req))
    return *bad;
  auto marker = req.query_value("marker");
  auto l = parse_listing(req, workflows_listing());
  if (!l.ok())
    return listing_fault(l.err());
  auto all_projects = req.query_value("all_projects");
  if (all_projects && (*all_projects == "true" || *all_projects == "True" || *all_projects == "1") &&
      !is_admin(req))
    return wsme_fault(403, "Operation forbidden (insufficient permissions)");
  persistence::workflow_definition_store store(ctx.db);
  if (marker) {
    auto found = store.get_by_id(*marker);
    if (!found.ok())
      return wsme_fault(found.err());
    if (!found->has_value())
      return wsme_fault(404, "Workflow not found [workflow_id=" + *marker + "]");
  }
  auto rows = store.list(l->query);
  if (!rows.ok())
    return wsme_fault(rows.err());
  // Mistral loads `spec` in place of `input`, so asking for input also
  // brings interface, and the next link names spec.
  listing shown = *l;
  listing link = *l;
  if (std::find(l->fields.begin(), l->fields.end(), "input") != l->fields.end()) {
    shown.fields.push_back("interface");
    link.fields.erase(std::find(link.fields.begin(), link.fields.end(), "input"));
    link.fields.push_back("spec");
  }
  json items = json::array();
  for (const auto& r : *rows)
    items.push_back(select_fields(to_resource(r, shape::wsme), shown));
  return json_response(200, collection_body(workflows_listing(), link, std::move(items), req.host_url()));
}

http_response validate(const http_request& req) {
  auto specs = dsl::validate_workflows(req.body);
  if (!specs.ok())
    return json_response(200, json{{"valid", false}, {"error", dsl_message(specs.err())}});
  return json_response(200, json{{"valid", true}});
}

} // namespace

void add_workflow_routes(router& r, std::shared_ptr<api_context> ctx) {
  r.add("POST", "/v2/workflows/validate",
        [](const http_request& req, const route_params&, responder respond) { respond(validate(req)); });
  r.add("GET", "/v2/workflows",
        [ctx](const http_request& req, const route_params&, responder respond) { respond(list(*ctx, req)); });
  r.add("GET", "/v2/workflows/{id}",
        [ctx](const http_request& req, const route_params& p, responder respond) {
          respond(get(*ctx, req, p.at("id")));
        });
  r.add("POST", "/v2/workflows", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(create(*ctx, req));
  });
  r.add("PUT", "/v2/workflows", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(update(*ctx, req, std::nullopt));
  });
  r.add("PUT", "/v2/workflows/{id}",
        [ctx](const http_request& req, const route_params& p, responder respond) {
          respond(update(*ctx, req, p.at("id")));
        });
  r.add("DELETE", "/v2/workflows/{id}",
        [ctx](const http_request& req, const route_params& p, responder respond) {
          respond(remove(*ctx, req, p.at("id")));
        });
}

} // namespace mistral::api

#include "api/workbooks_controller.hpp"

#include "api/definitions_common.hpp"
#include "api/listing.hpp"
#include "api/rest.hpp"
#include "common/uuid.hpp"
#include "dsl/parser.hpp"
#include "persistence/definition_stores.hpp"

namespace mistral::api {

namespace {

using persistence::filter;
using persistence::filter_op;
using persistence::record;

// Mistral 15 leaves a deleted workbook's workflows and actions behind (they
// keep running and listing as `<wb>.<name>`, and a new workbook of the same
// name silently adopts them). A user would expect them gone, but tempest's
// test_workbooks cleanup and the CLI scenario (wb-workflow-survives,
// action-delete-wb, wf-delete) delete them one by one after the workbook and
// fail on a 404, so by default we keep Mistral's behaviour. Set this to true
// to delete a workbook's contents with it.
constexpr bool delete_workbook_contents = false;

const listing_spec& workbooks_listing() {
  static const listing_spec spec{
    "workbooks",
    {"id", "name", "namespace", "definition", "tags", "scope", "project_id", "created_at", "updated_at"},
    {"created_at", "definition", "name", "scope", "tags", "updated_at", "namespace"},
    {},
    {"tags"},
  };
  return spec;
}

json to_resource(const record& r, bool created = false) {
  json out = json::object();
  out["id"] = r["id"];
  out["name"] = r["name"];
  out["namespace"] = text_or_null(r["namespace"]);
  out["definition"] = text_or_null(r["definition"]);
  out["tags"] = r["tags"].is_null() ? json::array() : r["tags"];
  out["scope"] = text_or_null(r["scope"]);
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["created_at"] = time_field(r["created_at"]);
  if (!created)
    out["updated_at"] = time_field(r["updated_at"]);
  return out;
}

error duplicate(const std::string& name, const std::string& ns) {
  return error(errc::conflict,
               "Duplicate entry for WorkbookDefinition ['name', 'namespace', 'project_id']: " + name + ", " +
                 ns + ", None",
               "DBDuplicateEntryError");
}

/// What a write did to one table, so a failing request can be undone.
struct undo_log {
  std::vector<std::pair<const persistence::table_def*, std::string>> inserted;
  std::vector<std::pair<const persistence::table_def*, record>> replaced;

  void rollback(std::shared_ptr<persistence::database>& db) {
    for (auto& [t, id] : inserted)
      (void)db->remove(*t, {filter{"id", filter_op::eq, {id}}});
    for (auto& [t, row] : replaced)
      (void)db->update(*t, {filter{"id", filter_op::eq, {row["id"]}}}, row);
  }
};

// create_or_update_*_definition: by name in the namespace.
status upsert(api_context& ctx, persistence::table_store& store, record values, undo_log& undo) {
  auto existing = store.get_by_name(values["name"], values["namespace"]);
  if (!existing.ok())
    return std::move(existing).err();
  if (existing->has_value()) {
    record& row = **existing;
    if (changes_row(row, values))
      values["updated_at"] = ctx.clock->now();
    auto done = store.update(row["id"], values);
    if (!done.ok())
      return std::move(done).err();
    undo.replaced.emplace_back(&store.table(), row);
    return ok_v;
  }
  values["id"] = make_uuid();
  values["created_at"] = ctx.clock->now();
  values["updated_at"] = nullptr;
  auto done = store.create(values);
  if (!done.ok())
    return done;
  undo.inserted.emplace_back(&store.table(), values["id"]);
  return ok_v;
}

// _on_workbook_update: the workbook's actions, then its workflows.
status store_contents(api_context& ctx, const dsl::workbook_spec& wb, const record& wb_row, undo_log& undo) {
  std::string wb_name = wb_row["name"];
  std::string definition = wb_row["definition"];
  persistence::action_definition_store actions(ctx.db);
  for (const auto& a : wb.actions) {
    record v = json::object();
    v["name"] = wb_name + "." + a.name;
    v["workbook_name"] = wb_name;
    v["spec"] = a.raw;
    v["tags"] = a.tags;
    v["definition"] = cut_workbook_item(definition, "actions:", a.name);
    v["description"] = a.description.empty() ? json(nullptr) : json(a.description);
    v["is_system"] = false;
    v["input"] = action_input_text(a.raw.value("input", json::array()));
    v["scope"] = wb_row["scope"];
    v["project_id"] = wb_row["project_id"];
    v["namespace"] = wb_row["namespace"];
    if (auto s = upsert(ctx, actions, v, undo); !s.ok())
      return s;
  }
  persistence::workflow_definition_store workflows(ctx.db);
  for (const auto& w : wb.workflows) {
    record v = json::object();
    v["name"] = wb_name + "." + w.name;
    v["workbook_name"] = wb_name;
    v["definition"] = cut_workbook_item(definition, "workflows:", w.name);
    v["spec"] = w.raw;
    v["scope"] = wb_row["scope"];
    v["project_id"] = wb_row["project_id"];
    v["namespace"] = wb_row["namespace"];
    v["tags"] = w.tags;
    v["is_system"] = false;
    v["input"] = workflow_input_text(w.raw.value("input", json::array()));
    if (auto s = upsert(ctx, workflows, v, undo); !s.ok())
      return s;
  }
  return ok_v;
}

struct write_request {
  std::string scope;
  std::string ns;
  dsl::workbook_spec spec;
};

// The checks POST and PUT share, in Mistral's order.
result<write_request> read_write_request(const http_request& req) {
  auto scope = requested_scope(req);
  if (!scope.ok())
    return std::move(scope).err();
  auto spec = dsl::validate_workbook(req.body);
  if (!spec.ok())
    return std::move(spec).err();
  // A numeric version gives Mistral no spec at all; its service then fails.
  if (!spec->validated)
    return error(errc::internal, "'NoneType' object has no attribute 'get_name'");
  return write_request{*scope, query_or(req, "namespace"), std::move(spec).value()};
}

http_response create(api_context& ctx, const http_request& req) {
  if (refuses_text_plain(req))
    return not_acceptable(req);
  auto w = read_write_request(req);
  if (!w.ok())
    return w.err().code == errc::invalid_input ? dsl_fault(w.err()) : pecan_fault(w.err());
  record row = {{"id", make_uuid()},      {"name", w->spec.name},          {"namespace", w->ns},
                {"definition", req.body}, {"spec", w->spec.raw},           {"tags", w->spec.tags},
                {"scope", w->scope},      {"project_id", default_project}, {"created_at", ctx.clock->now()},
                {"updated_at", nullptr}};
  persistence::workbook_store store(ctx.db);
  auto done = store.create(row);
  if (!done.ok())
    return pecan_fault(done.err().code == errc::conflict ? duplicate(w->spec.name, w->ns) : done.err());
  undo_log undo;
  undo.inserted.emplace_back(&store.table(), row["id"]);
  if (auto s = store_contents(ctx, w->spec, row, undo); !s.ok()) {
    undo.rollback(ctx.db);
    return pecan_fault(s.err());
  }
  return json_response(201, to_resource(row, true));
}

http_response update(api_context& ctx, const http_request& req) {
  if (refuses_text_plain(req))
    return not_acceptable(req);
  auto w = read_write_request(req);
  if (!w.ok())
    return w.err().code == errc::invalid_input ? dsl_fault(w.err()) : pecan_fault(w.err());
  persistence::workbook_store store(ctx.db);
  auto existing = store.get_by_name(w->spec.name, w->ns);
  if (!existing.ok())
    return pecan_fault(existing.err());
  if (!existing->has_value())
    return pecan_fault(404, "Workbook not found [name=" + w->spec.name + ", namespace=" + w->ns + "]");
  record row = **existing;
  record changes = {{"name", w->spec.name}, {"tags", w->spec.tags}, {"definition", req.body},
                    {"spec", w->spec.raw},  {"scope", w->scope},    {"namespace", w->ns}};
  if (changes_row(row, changes))
    changes["updated_at"] = ctx.clock->now();
  auto done = store.update(row["id"], changes);
  if (!done.ok())
    return pecan_fault(done.err());
  undo_log undo;
  undo.replaced.emplace_back(&store.table(), row);
  for (auto it = changes.begin(); it != changes.end(); ++it)
    row[it.key()] = it.value();
  if (auto s = store_contents(ctx, w->spec, row, undo); !s.ok()) {
    undo.rollback(ctx.db);
    return pecan_fault(s.err());
  }
  return json_response(200, to_resource(row));
}

http_response get(api_context& ctx, const http_request& req, const std::string& name) {
  std::string ns = query_or(req, "namespace");
  persistence::workbook_store store(ctx.db);
  auto row = store.get_by_name(name, ns);
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(404, "Workbook not found [name=" + name + ", namespace=" + ns + "]");
  return json_response(200, to_resource(**row));
}

http_response remove(api_context& ctx, const http_request& req, const std::string& name) {
  std::string ns = query_or(req, "namespace");
  persistence::workbook_store store(ctx.db);
  auto row = store.get_by_name(name, ns);
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(404, "Workbook not found [workbook_name=" + name + ", namespace=" + ns + "]");
  auto done = store.remove((**row)["id"]);
  if (!done.ok())
    return wsme_fault(done.err());
  if (delete_workbook_contents) {
    std::vector<filter> owned = {filter{"workbook_name", filter_op::eq, {name}},
                                 filter{"namespace", filter_op::eq, {ns}}};
    (void)persistence::workflow_definition_store(ctx.db).remove_where(owned);
    (void)persistence::action_definition_store(ctx.db).remove_where(owned);
  }
  return no_content();
}

http_response list(api_context& ctx, const http_request& req) {
  auto l = parse_listing(req, workbooks_listing());
  if (!l.ok())
    return listing_fault(l.err());
  persistence::workbook_store store(ctx.db);
  auto rows = store.list(l->query);
  if (!rows.ok())
    return wsme_fault(rows.err());
  json items = json::array();
  for (const auto& r : *rows)
    items.push_back(select_fields(to_resource(r), *l));
  return json_response(200, collection_body(workbooks_listing(), *l, std::move(items), req.host_url()));
}

http_response validate(const http_request& req) {
  auto spec = dsl::validate_workbook(req.body);
  if (!spec.ok())
    return json_response(200, json{{"valid", false}, {"error", dsl_message(spec.err())}});
  return json_response(200, json{{"valid", true}});
}

} // namespace

void add_workbook_routes(router& r, std::shared_ptr<api_context> ctx) {
  r.add("POST", "/v2/workbooks/validate",
        [](const http_request& req, const route_params&, responder respond) { respond(validate(req)); });
  r.add("GET", "/v2/workbooks",
        [ctx](const http_request& req, const route_params&, responder respond) { respond(list(*ctx, req)); });
  r.add("GET", "/v2/workbooks/{name}",
        [ctx](const http_request& req, const route_params& p, responder respond) {
          respond(get(*ctx, req, p.at("name")));
        });
  r.add("POST", "/v2/workbooks", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(create(*ctx, req));
  });
  r.add("PUT", "/v2/workbooks", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(update(*ctx, req));
  });
  r.add("DELETE", "/v2/workbooks/{name}",
        [ctx](const http_request& req, const route_params& p, responder respond) {
          respond(remove(*ctx, req, p.at("name")));
        });
}

} // namespace mistral::api

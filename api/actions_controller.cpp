#include "api/actions_controller.hpp"

#include "actors/action/catalog.hpp"
#include "api/code_sources_controller.hpp"
#include "api/definitions_common.hpp"
#include "api/rest.hpp"
#include "common/clock.hpp"
#include "common/uuid.hpp"
#include "dsl/expr/py_value.hpp"
#include "dsl/parser.hpp"
#include "persistence/definition_stores.hpp"

#include <algorithm>
#include <map>

namespace mistral::api {

namespace {

using persistence::record;

enum class shape { created, updated };

// Action.from_db_model(...).to_json() of POST/PUT: the row's columns in the
// resource's order; a fresh row has no updated_at yet.
json db_resource(const record& r, shape s) {
  json out = json::object();
  out["id"] = r["id"];
  out["name"] = r["name"];
  out["is_system"] = r["is_system"].is_boolean() ? r["is_system"] : json(false);
  out["input"] = text_or_null(r["input"]);
  out["description"] = text_or_null(r["description"]);
  out["tags"] = r["tags"].is_null() ? json::array() : r["tags"];
  out["definition"] = text_or_null(r["definition"]);
  out["scope"] = text_or_null(r["scope"]);
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["created_at"] = time_field(r["created_at"]);
  if (s == shape::updated)
    out["updated_at"] = time_field(r["updated_at"]);
  out["namespace"] = text_or_null(r["namespace"]);
  return out;
}

// _action_descriptor_to_resource for an ad-hoc action (GET and lists).
json adhoc_resource(const record& r) {
  json out = json::object();
  out["id"] = r["id"];
  out["name"] = r["name"];
  out["is_system"] = false;
  out["input"] = r["input"].is_null() ? json("") : r["input"];
  out["description"] = text_or_null(r["description"]);
  out["tags"] = r["tags"];
  out["definition"] = text_or_null(r["definition"]);
  out["scope"] = text_or_null(r["scope"]);
  out["project_id"] = r["project_id"].is_null() ? json(default_project) : r["project_id"];
  out["created_at"] = time_field(r["created_at"]);
  out["updated_at"] = time_field(r["updated_at"]);
  out["namespace"] = text_or_null(r["namespace"]);
  return out;
}

// _action_descriptor_to_resource for a Python (std) action.
json std_resource(const action::std_action& a) {
  json out = json::object();
  out["id"] = a.name;
  out["name"] = a.name;
  out["is_system"] = false;
  out["input"] = a.input;
  out["description"] = a.description;
  out["tags"] = nullptr;
  out["definition"] = "";
  out["scope"] = nullptr;
  out["project_id"] = nullptr;
  out["created_at"] = "";
  out["updated_at"] = "";
  out["namespace"] = "";
  return out;
}

error definition_not_found(const std::string& identifier, const std::string& ns) {
  return error(errc::not_found,
               "Action definition not found [action_name=" + identifier + ", namespace=" + ns + "]",
               "DBEntityNotFoundError");
}

// db_api.get_action_definition: by id or name in `ns`, then in the default namespace.
result<std::optional<record>> find_definition(persistence::action_definition_store& store,
                                              const std::string& identifier, const std::string& ns) {
  auto by_id = store.get_by_id(identifier);
  if (!by_id.ok() || by_id->has_value())
    return by_id;
  auto by_name = store.get_by_name(identifier, ns);
  if (!by_name.ok() || by_name->has_value() || ns.empty())
    return by_name;
  return store.get_by_name(identifier, "");
}

record row_values(const dsl::action_spec& a, const std::string& definition, const std::string& scope,
                  const std::string& ns) {
  record v = json::object();
  v["name"] = a.name;
  v["description"] = a.description.empty() ? json(nullptr) : json(a.description);
  v["tags"] = a.tags;
  v["definition"] = definition;
  v["spec"] = a.raw;
  v["is_system"] = false;
  v["input"] = action_input_text(a.raw.value("input", json::array()));
  v["scope"] = scope;
  v["namespace"] = ns;
  return v;
}

http_response create(api_context& ctx, const http_request& req) {
  if (refuses_text_plain(req))
    return not_acceptable(req);
  std::string ns = query_or(req, "namespace");
  auto scope = requested_scope(req);
  if (!scope.ok())
    return pecan_fault(scope.err());
  auto specs = dsl::validate_actions(req.body);
  if (!specs.ok())
    return dsl_fault(specs.err());
  persistence::action_definition_store store(ctx.db);
  std::vector<record> created;
  for (const auto& a : specs->actions) {
    record row = row_values(a, req.body, *scope, ns);
    row["id"] = make_uuid();
    row["project_id"] = default_project;
    row["created_at"] = ctx.clock->now();
    row["updated_at"] = nullptr;
    auto done = store.create(row);
    if (!done.ok()) {
      for (const auto& c : created)
        (void)store.remove(c["id"]);
      if (done.err().code == errc::conflict)
        return pecan_fault(409, "Duplicate entry for Action ['name', 'namespace', 'project_id']: " + a.name +
                                  ", " + ns + ", None");
      return pecan_fault(done.err());
    }
    created.push_back(row);
  }
  json items = json::array();
  for (const auto& r : created)
    items.push_back(db_resource(r, shape::created));
  return json_response(201, json{{"actions", items}});
}

http_response update(api_context& ctx, const http_request& req,
                     const std::optional<std::string>& identifier) {
  if (refuses_text_plain(req))
    return not_acceptable(req);
  std::string ns = query_or(req, "namespace");
  auto scope = requested_scope(req);
  if (!scope.ok())
    return pecan_fault(scope.err());
  auto specs = dsl::validate_actions(req.body);
  if (!specs.ok())
    return dsl_fault(specs.err());
  if (identifier && specs->actions.size() > 1)
    return pecan_fault(
      400, "More than one actions are not supported for update with identifier. [identifier: " + *identifier +
             "]");
  persistence::action_definition_store store(ctx.db);
  std::vector<std::pair<record, record>> plan;
  for (const auto& a : specs->actions) {
    auto system = store.get_by_name(a.name, "");
    if (system.ok() && system->has_value() && (**system)["is_system"] == true)
      return pecan_fault(400, "Attempt to modify a system action: " + a.name);
    std::string key = identifier ? *identifier : a.name;
    auto existing = find_definition(store, key, ns);
    if (!existing.ok())
      return pecan_fault(existing.err());
    if (!existing->has_value())
      return pecan_fault(definition_not_found(key, ns));
    plan.emplace_back(**existing, row_values(a, req.body, *scope, ns));
  }
  json items = json::array();
  for (auto& [row, changes] : plan) {
    if (changes_row(row, changes))
      changes["updated_at"] = ctx.clock->now();
    auto done = store.update(row["id"], changes);
    if (!done.ok())
      return pecan_fault(done.err());
    for (auto it = changes.begin(); it != changes.end(); ++it)
      row[it.key()] = it.value();
    items.push_back(db_resource(row, shape::updated));
  }
  return json_response(200, json{{"actions", items}});
}

http_response get(api_context& ctx, const http_request& req, const std::string& identifier) {
  std::string ns = query_or(req, "namespace");
  // The system provider asks the Python actions first, then ad-hoc ones by name.
  if (const auto* a = action::find_std_action(identifier))
    return json_response(200, std_resource(*a));
  if (auto dynamic = bound_dynamic_actions(*ctx.db, identifier, ns); !dynamic.empty())
    return json_response(200, dynamic_action_listing_resource(dynamic.front()));
  persistence::action_definition_store store(ctx.db);
  auto row = store.get_by_name(identifier, ns);
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(404, "Action not found [name=" + identifier + ", namespace=" + ns + "]");
  return json_response(200, adhoc_resource(**row));
}

http_response remove(api_context& ctx, const http_request& req, const std::string& identifier) {
  std::string ns = query_or(req, "namespace");
  persistence::action_definition_store store(ctx.db);
  // Only the database is searched, so std actions are "not found" (as upstream).
  auto row = find_definition(store, identifier, ns);
  if (!row.ok())
    return wsme_fault(row.err());
  if (!row->has_value())
    return wsme_fault(definition_not_found(identifier, ns));
  if ((**row)["is_system"] == true)
    return wsme_fault(400, "Attempt to delete a system action: " + identifier);
  auto done = store.remove((**row)["id"]);
  if (!done.ok())
    return wsme_fault(done.err());
  return no_content();
}

// ---- GET /v2/actions: filtered, sorted and paged in memory -------------

/// One action of the list with the attributes its descriptor has: Python
/// descriptors lack created_at, tags, definition..., and Mistral ignores a
/// filter on an attribute the descriptor lacks.
struct listed_action {
  json resource;
  json attrs = json::object();
};

listed_action listed_std(const action::std_action& a) {
  listed_action l{std_resource(a)};
  l.attrs = {{"name", a.name},
             {"description", a.description},
             {"namespace", ""},
             {"project_id", nullptr},
             {"scope", nullptr}};
  return l;
}

listed_action listed_dynamic(const bound_dynamic_action& a) {
  listed_action l{dynamic_action_listing_resource(a)};
  l.attrs = {{"name", a.row["name"]},
             {"description", a.bound->description},
             {"namespace", a.row["namespace"]},
             {"project_id", l.resource["project_id"]},
             {"scope", a.row["scope"]}};
  return l;
}

listed_action listed_adhoc(const record& r) {
  listed_action l{adhoc_resource(r)};
  l.attrs = {{"name", r["name"]},
             {"description", r["description"]},
             {"namespace", r["namespace"]},
             {"project_id", l.resource["project_id"]},
             {"scope", r["scope"]},
             {"id", r["id"]},
             {"created_at", r["created_at"]},
             {"updated_at", r["updated_at"]},
             {"tags", r["tags"]},
             {"definition", r["definition"]}};
  return l;
}

struct action_filter {
  std::string column;
  std::string op;
  json value; ///< a string, or a list of strings for in/nin
};

const std::vector<std::string>& filter_columns() {
  static const std::vector<std::string> cols = {"created_at", "name",        "scope",      "tags",
                                                "updated_at", "description", "definition", "is_system",
                                                "input",      "namespace"};
  return cols;
}

action_filter parse_filter(const std::string& column, const std::string& raw) {
  static const char* ops[] = {"eq", "neq", "gt", "gte", "lt", "lte", "has", "in", "nin"};
  for (const char* op : ops) {
    std::string prefix = std::string(op) + ":";
    if (raw.rfind(prefix, 0) == 0) {
      std::string value = raw.substr(prefix.size());
      if (std::string(op) == "in" || std::string(op) == "nin") {
        json items = json::array();
        std::size_t start = 0;
        while (true) {
          auto comma = value.find(',', start);
          items.push_back(
            value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
          if (comma == std::string::npos)
            break;
          start = comma + 1;
        }
        return {column, op, items};
      }
      return {column, op, value};
    }
  }
  return {column, "eq", raw};
}

// -1, 0, 1 like Python's comparison, or nullopt where Python raises TypeError.
std::optional<int> py_compare(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return (x > y) - (x < y);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return (c > 0) - (c < 0);
  }
  return std::nullopt;
}

bool matches(const listed_action& a, const action_filter& f) {
  if (!a.attrs.contains(f.column))
    return true;
  json attr = a.attrs[f.column];
  json value = f.value;
  if ((f.column == "created_at" || f.column == "updated_at") && attr.is_number() && value.is_string()) {
    timestamp t = 0;
    if (parse_time(value.get<std::string>(), t))
      value = t / 1000000;
    attr = attr.get<timestamp>() / 1000000;
  }
  if (f.op == "eq")
    return attr == value;
  if (f.op == "neq")
    return attr != value;
  if (f.op == "in" || f.op == "nin") {
    bool in = std::find(value.begin(), value.end(), attr) != value.end();
    return f.op == "in" ? in : !in;
  }
  if (f.op == "has") {
    if (attr.is_string() && value.is_string())
      return attr.get<std::string>().find(value.get<std::string>()) != std::string::npos;
    if (attr.is_array())
      return std::find(attr.begin(), attr.end(), value) != attr.end();
    return false;
  }
  auto c = py_compare(attr, value);
  if (!c)
    return false;
  if (f.op == "lt")
    return *c < 0;
  if (f.op == "lte")
    return *c <= 0;
  if (f.op == "gt")
    return *c > 0;
  return *c >= 0; // gte
}

// The sort value of `key`: the attribute, else the name (Python's getattr
// default). std actions sort with an empty created_at/updated_at, before
// every ad-hoc action (upstream raises TypeError here: a §9 bug).
json sort_value(const listed_action& a, const std::string& key) {
  if (key == "created_at" || key == "updated_at")
    return a.attrs.contains(key) ? a.attrs[key] : json("");
  if (key == "id")
    return a.resource["id"];
  if (a.attrs.contains(key))
    return a.attrs[key];
  return a.resource.contains(key) ? a.resource[key] : a.attrs["name"];
}

int rank(const json& v) {
  if (v.is_null())
    return 0;
  if (v.is_string())
    return 1;
  if (v.is_number())
    return 2;
  return 3;
}

int compare_values(const json& a, const json& b) {
  if (rank(a) != rank(b))
    return rank(a) < rank(b) ? -1 : 1;
  auto c = py_compare(a, b);
  if (c)
    return *c;
  std::string x = a.dump(), y = b.dump();
  return (x > y) - (x < y);
}

std::string link_value(const action_filter& f) {
  if (f.value.is_array()) {
    std::vector<std::string> items;
    for (const auto& v : f.value)
      items.push_back(v.get<std::string>());
    std::string list = "[";
    for (std::size_t i = 0; i < items.size(); ++i)
      list += (i ? ", " : "") + expr::py_repr(json(items[i]));
    return f.op + ":" + list + "]";
  }
  return f.op + ":" + f.value.get<std::string>();
}

std::vector<std::string> split_csv(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos)
      comma = text.size();
    std::string item = text.substr(start, comma - start);
    auto b = item.find_first_not_of(' ');
    if (b != std::string::npos)
      out.push_back(item.substr(b, item.find_last_not_of(' ') - b + 1));
    start = comma + 1;
  }
  return out;
}

struct action_query {
  std::optional<std::string> marker;
  std::optional<std::int64_t> limit;
  std::vector<std::string> sort_keys{"name"};
  std::vector<std::string> sort_dirs{"asc"};
  std::vector<action_filter> filters;
};

result<action_query> parse_action_query(const http_request& req) {
  action_query q;
  std::map<std::string, std::string> given;
  for (const auto& [name, value] : req.query) {
    if (name == "marker") {
      q.marker = value;
    } else if (name == "limit") {
      try {
        std::size_t used = 0;
        q.limit = std::stoll(value, &used);
        if (used != value.size())
          throw std::invalid_argument(value);
      } catch (...) {
        return error(errc::invalid_input, "Invalid input for field/attribute limit. Value: '" + value +
                                            "'. unable to convert to int. Error: invalid literal for int() "
                                            "with base 10: '" +
                                            value + "'");
      }
    } else if (name == "sort_keys") {
      q.sort_keys.clear();
      for (auto k : split_csv(value)) {
        std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
        if (std::find(q.sort_keys.begin(), q.sort_keys.end(), k) == q.sort_keys.end())
          q.sort_keys.push_back(k);
      }
    } else if (name == "sort_dirs") {
      q.sort_dirs = split_csv(value);
    } else if (name == "fields") {
      // Accepted and, as upstream, ignored: actions always come whole.
    } else if (std::find(filter_columns().begin(), filter_columns().end(), name) != filter_columns().end()) {
      given[name] = value;
    } else {
      return error(errc::invalid_input, "Unknown argument: \"" + name + "\"");
    }
  }
  if (!given.count("namespace"))
    given["namespace"] = "";
  for (const auto& col : filter_columns())
    if (given.count(col))
      q.filters.push_back(parse_filter(col, given[col]));
  if (q.limit && *q.limit <= 0)
    return error(errc::invalid_input, "Limit must be positive.");
  if (q.sort_keys.size() < q.sort_dirs.size())
    return error(errc::invalid_input, "Length of sort_keys must be equal or greater than sort_dirs.");
  while (q.sort_dirs.size() < q.sort_keys.size())
    q.sort_dirs.push_back("asc");
  for (const auto& d : q.sort_dirs)
    if (d != "asc" && d != "desc")
      return error(errc::invalid_input, "Unknown sort direction, must be 'desc' or 'asc'.");
  // The dynamic action provider sorts in the database, which knows only its
  // own columns: any other key is a 500 upstream.
  static const std::vector<std::string> sortable = {
    "id",        "name",       "class_name", "scope", "project_id", "code_source_id", "code_source_name",
    "namespace", "created_at", "updated_at"};
  for (const auto& k : q.sort_keys)
    if (std::find(sortable.begin(), sortable.end(), k) == sortable.end())
      return error(errc::internal, "Sort key supplied is invalid: " + k);
  // The DB-backed providers page with id appended, and the link shows it.
  if (q.limit && std::find(q.sort_keys.begin(), q.sort_keys.end(), "id") == q.sort_keys.end()) {
    q.sort_keys.push_back("id");
    q.sort_dirs.push_back("asc");
  }
  return q;
}

http_response list(api_context& ctx, const http_request& req) {
  auto q = parse_action_query(req);
  if (!q.ok())
    return wsme_fault(q.err());
  std::vector<listed_action> all;
  for (const auto& a : action::std_actions())
    all.push_back(listed_std(a));
  persistence::action_definition_store store(ctx.db);
  auto rows = store.list(persistence::list_query{{}, {{"created_at", false}}, std::nullopt, std::nullopt});
  if (!rows.ok())
    return wsme_fault(rows.err());
  for (const auto& r : *rows)
    all.push_back(listed_adhoc(r));
  for (const auto& d : bound_dynamic_actions(*ctx.db))
    all.push_back(listed_dynamic(d));
  std::vector<listed_action> kept;
  for (auto& a : all)
    if (std::all_of(q->filters.begin(), q->filters.end(),
                    [&](const action_filter& f) { return matches(a, f); }))
      kept.push_back(std::move(a));
  std::stable_sort(kept.begin(), kept.end(), [&](const listed_action& x, const listed_action& y) {
    for (std::size_t i = 0; i < q->sort_keys.size(); ++i) {
      int c = compare_values(sort_value(x, q->sort_keys[i]), sort_value(y, q->sort_keys[i]));
      if (c)
        return q->sort_dirs[i] == "asc" ? c < 0 : c > 0;
    }
    return false;
  });
  // Upstream pages from the marker itself (inclusive), by name.
  std::size_t start = 0;
  if (q->marker)
    for (std::size_t i = 0; i < kept.size(); ++i)
      if (kept[i].attrs["name"] == *q->marker) {
        start = i;
        break;
      }
  json items = json::array();
  std::size_t end = kept.size();
  if (q->limit) {
    start = std::min(start, kept.size());
    end = std::min(kept.size(), start + static_cast<std::size_t>(*q->limit));
  } else {
    start = 0;
  }
  for (std::size_t i = start; i < end; ++i)
    items.push_back(kept[i].resource);
  json body = json::object();
  bool full = q->limit && !items.empty() && static_cast<std::int64_t>(items.size()) == *q->limit;
  std::string last_id = full ? items.back()["id"].get<std::string>() : "";
  body["actions"] = std::move(items);
  if (full) {
    std::string keys, dirs;
    for (std::size_t i = 0; i < q->sort_keys.size(); ++i) {
      keys += (i ? "," : "") + q->sort_keys[i];
      dirs += (i ? "," : "") + q->sort_dirs[i];
    }
    std::string link = req.host_url() + "/v2/actions?sort_keys=" + keys + "&sort_dirs=" + dirs + "&";
    for (const auto& f : q->filters)
      link += f.column + "=" + link_value(f) + "&";
    link += "limit=" + std::to_string(*q->limit) + "&marker=" + last_id;
    body["next"] = link;
  }
  return json_response(200, body);
}

http_response validate(const http_request& req) {
  auto specs = dsl::validate_actions(req.body);
  if (!specs.ok())
    return json_response(200, json{{"valid", false}, {"error", dsl_message(specs.err())}});
  return json_response(200, json{{"valid", true}});
}

// `mistral-db-manage populate`: std.wait_ssh as a public ad-hoc action.
void ensure_wait_ssh(api_context& ctx) {
  if (!ctx.db)
    return;
  persistence::action_definition_store store(ctx.db);
  auto existing = store.get_by_name("std.wait_ssh", "");
  if (!existing.ok() || existing->has_value())
    return;
  const std::string& text = action::wait_ssh_definition();
  auto specs = dsl::validate_actions(text);
  record row;
  if (specs.ok() && specs->actions.size() == 1) {
    row = row_values(specs->actions.front(), text, "public", "");
  } else {
    row = {{"name", "std.wait_ssh"},
           {"description", "Simple SSH command."},
           {"tags", json::array()},
           {"definition", text},
           {"spec", json::object()},
           {"is_system", false},
           {"input", "host, username, password"},
           {"scope", "public"},
           {"namespace", ""}};
  }
  row["id"] = make_uuid();
  row["project_id"] = default_project;
  row["created_at"] = ctx.clock->now();
  row["updated_at"] = nullptr;
  (void)store.create(row);
}

} // namespace

void add_action_routes(router& r, std::shared_ptr<api_context> ctx) {
  ensure_wait_ssh(*ctx);
  r.add("POST", "/v2/actions/validate",
        [](const http_request& req, const route_params&, responder respond) { respond(validate(req)); });
  r.add("GET", "/v2/actions",
        [ctx](const http_request& req, const route_params&, responder respond) { respond(list(*ctx, req)); });
  r.add("GET", "/v2/actions/{id}", [ctx](const http_request& req, const route_params& p, responder respond) {
    respond(get(*ctx, req, p.at("id")));
  });
  r.add("POST", "/v2/actions", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(create(*ctx, req));
  });
  r.add("PUT", "/v2/actions", [ctx](const http_request& req, const route_params&, responder respond) {
    respond(update(*ctx, req, std::nullopt));
  });
  r.add("PUT", "/v2/actions/{id}", [ctx](const http_request& req, const route_params& p, responder respond) {
    respond(update(*ctx, req, p.at("id")));
  });
  r.add("DELETE", "/v2/actions/{id}",
        [ctx](const http_request& req, const route_params& p, responder respond) {
          respond(remove(*ctx, req, p.at("id")));
        });
}

} // namespace mistral::api

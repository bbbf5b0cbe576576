#include "api/services_controller.hpp"

#include "api/definitions_common.hpp"
#include "api/rest.hpp"

#include <unistd.h>

namespace mistral::api {

namespace {

bool cluster_configured(const config::config& cfg) {
  return !cfg.get_string("coordination", "backend_url").empty() ||
         cfg.get_int("cluster", "listen_port", 0) > 0 || !cfg.get_list("cluster", "seed_nodes").empty();
}

std::string node_name(const config::config& cfg) {
  std::string name = cfg.get_string("cluster", "node_name");
  if (!name.empty())
    return name;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0)
    return "localhost";
  return host;
}

http_response list_services(const api_context& ctx) {
  if (!ctx.cfg || !cluster_configured(*ctx.cfg))
    return wsme_fault(406, "Service API is not supported.");
  json services = json::array();
  const std::string name = node_name(*ctx.cfg);
  for (const auto& role : ctx.node_roles)
    services.push_back(json{{"name", name}, {"type", role + "_group"}});
  return json_response(200, json{{"services", services}});
}

} // namespace

json services_of(const json& members) {
  json services = json::array();
  if (!members.is_array())
    return services;
  for (const auto& m : members) {
    if (!m.is_object() || !m.contains("roles") || !m["roles"].is_array())
      continue;
    for (const auto& role : m["roles"])
      if (role.is_string())
        services.push_back(json{{"name", m.value("name", "")}, {"type", role.get<std::string>() + "_group"}});
  }
  return services;
}

namespace {

http_response member_answer(const std::string& workflow_id) {
  if (!uuid_like(workflow_id)) {
    http_response r;
    r.status = 500;
    r.content_type = "text/plain";
    return r;
  }
  return pecan_fault(400, "Resource sharing feature can only be supported with authentication enabled.");
}

} // namespace

void add_service_routes(router& r, std::shared_ptr<api_context> ctx) {
  r.add("GET", "/v2/services", [ctx](const http_request&, const route_params&, responder respond) {
    if (!ctx->cluster_members)
      return respond(list_services(*ctx));
    ctx->cluster_members([respond](result<std::string> members) {
      if (!members.ok())
        return respond(wsme_fault(members.err()));
      respond(json_response(200, json{{"services", services_of(json::parse(*members, nullptr, false))}}));
    });
  });
}

void add_member_routes(router& r, std::shared_ptr<api_context>) {
  auto answer = [](const http_request&, const route_params& p, responder respond) {
    respond(member_answer(p.at("id")));
  };
  r.add("GET", "/v2/workflows/{id}/members", answer);
  r.add("POST", "/v2/workflows/{id}/members", answer);
  r.add("GET", "/v2/workflows/{id}/members/{member_id}", answer);
  r.add("PUT", "/v2/workflows/{id}/members/{member_id}", answer);
  r.add("DELETE", "/v2/workflows/{id}/members/{member_id}", answer);
}

} // namespace mistral::api

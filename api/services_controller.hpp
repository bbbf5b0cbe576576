#pragma once

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace mistral::api {

/// GET /v2/services: 406 "Service API is not supported." unless the node
/// is configured for a cluster ([coordination] backend_url, or [cluster]
/// listen_port / seed_nodes); then the roles this node runs, as Mistral's
/// groups: {"services": [{"name": <node>, "type": "engine_group"}, ...]}.
/// In a running cluster (ctx.cluster_members set) every live node and role.
void add_service_routes(router& r, std::shared_ptr<api_context> ctx);

/// The services list of the cluster directory's members JSON: one entry
/// {"name": node, "type": role + "_group"} per node and role, in order.
json services_of(const json& members);

/// /v2/workflows/{id}/members[/{member_id}]: resource sharing needs
/// authentication, which this server does not have, so every call is
/// Mistral's auth-off answer: 400 "Resource sharing feature can only be
/// supported with authentication enabled." (500 with an empty body when the
/// workflow id is not a UUID, as upstream).
void add_member_routes(router& r, std::shared_ptr<api_context> ctx);

} // namespace mistral::api

#pragma once

#include "api/engine_client.hpp"

#include <caf/fwd.hpp>

#include <functional>

namespace mistral::api {

/// The engine client over CAF: a short-lived actor per call does the request.
std::shared_ptr<engine_client> make_caf_engine_client(caf::actor_system& sys, caf::actor engine);

/// Asks the cluster `directory` for its members (members_atom); the callback
/// gets the JSON text or an error.
std::function<void(std::function<void(result<std::string>)>)>
make_cluster_members_query(caf::actor_system& sys, caf::actor directory);

} // namespace mistral::api

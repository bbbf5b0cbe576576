#pragma once

#include "api/engine_client.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "persistence/database.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mistral::api {

/// What the controllers share: the store, the configuration and the clock.
struct api_context {
  std::shared_ptr<persistence::database> db;
  std::shared_ptr<const config::config> cfg;
  std::shared_ptr<const mistral::clock> clock;
  std::shared_ptr<engine_client> engine; ///< null when this node runs no engine
  std::vector<std::string> node_roles;   ///< the roles this node runs ("api", "engine", ...)
  /// Cluster mode only: asks the node's cluster directory for the live
  /// members (JSON text: [{"name", "roles", ...}]) and calls back with them.
  std::function<void(std::function<void(result<std::string>)>)> cluster_members;
};

} // namespace mistral::api

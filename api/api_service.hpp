#pragma once

#include "common/error.hpp"
#include "config/config.hpp"
#include "persistence/database.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mistral::api {

class router;
struct api_context;

/// Registers every v2 endpoint over `ctx` on `routes`.
void add_v2_routes(router& routes, const std::shared_ptr<api_context>& ctx);

/// The api role of a node: the HTTP actor plus the transport bound to
/// [api] host and port.
class api_service {
public:
  /// Builds the routes over `db`, spawns the HTTP actor and binds the listener.
  /// `directory` is the node's cluster directory (invalid outside cluster
  /// mode): GET /v2/services lists its members.
  static result<std::unique_ptr<api_service>> start(caf::actor_system& sys,
                                                    std::shared_ptr<const config::config> cfg,
                                                    std::shared_ptr<persistence::database> db,
                                                    caf::actor engine, std::vector<std::string> node_roles,
                                                    caf::actor directory);

  /// "http://host:port" the service listens on.
  const std::string& base_url() const;

  /// Stops the listener and the HTTP actor. Idempotent.
  void stop();

  ~api_service();

private:
  struct impl;
  explicit api_service(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace mistral::api

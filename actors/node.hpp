#pragma once

#include "actors/cluster/roles.hpp"
#include "common/error.hpp"
#include "config/config.hpp"
#include "persistence/database.hpp"

#include <caf/fwd.hpp>

#include <memory>

namespace mistral::actors {

/// One mistral-server process: a CAF actor system running the chosen roles.
/// The api role's HTTP front is attached by the caller (api/ depends on us).
class node {
public:
  /// Creates the actor system and spawns a supervisor per chosen role, and
  /// the engine and executor actors when those roles run here.
  static result<std::unique_ptr<node>> start(const config::config& cfg, const cluster::role_set& roles,
                                             std::shared_ptr<persistence::database> db);

  caf::actor_system& system();
  /// The engine router, or an invalid handle when this node has no engine.
  const caf::actor& engine() const;
  const cluster::role_set& roles() const;

  /// Asks every role to stop and waits for their actors to finish.
  void stop();

  ~node();

private:
  struct impl;
  explicit node(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace mistral::actors

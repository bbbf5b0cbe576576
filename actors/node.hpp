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
  /// The engine router; on an api node of a cluster without a local engine,
  /// a proxy that forwards to a live engine node; else an invalid handle.
  const caf::actor& engine() const;
  /// The cluster directory (protocol.hpp: lookup_atom, members_atom), or an
  /// invalid handle outside cluster mode.
  const caf::actor& directory() const;
  /// [cluster] node_name, or the host name.
  const std::string& node_name() const;
  const cluster::role_set& roles() const;

  /// Asks every role to stop and waits for their actors to finish.
  void stop();

  ~node();

private:
  struct impl;
  /// Registers the local role actors, publishes the directory on
  /// [cluster] listen_host:listen_port and starts dialing the seeds.
  status join_cluster();
  explicit node(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace mistral::actors

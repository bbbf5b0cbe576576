#pragma once

#include "actors/cluster/membership.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <vector>

namespace mistral::cluster {

/// What a node's directory starts with.
struct directory_config {
  member self;                 ///< this node; port 0 when it does not listen
  std::vector<endpoint> seeds; ///< [cluster] seed_nodes
  std::chrono::milliseconds dial_interval{1000};
};

/// Spawns the node's cluster directory (protocol.hpp lists its messages):
/// it keeps the live members, dials seeds and learnt members until they
/// answer (nodes start in any order, a seed that restarts is joined again),
/// monitors every remote directory so a node that dies leaves at once, and
/// tells local subscribers (the dispatcher, the engine proxy) who came and
/// went. Register this node's role actors with cluster_register_atom, then
/// send start_atom to begin dialing.
caf::actor spawn_directory(caf::actor_system& sys, directory_config cfg);

} // namespace mistral::cluster

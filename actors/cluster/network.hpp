#pragma once
/// CAF's network layer (caf::io, the middleman) for cluster nodes.
///
/// caf::io is only used in cluster mode. It lives in a plugin,
/// libmistral_cluster_io.so (actors/cluster/io_plugin/), that a node opens
/// when it starts in cluster mode: a single-node server never loads
/// libcaf_io, which costs about 1 MB of resident memory (bench/README.md).

#include "common/error.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>

#include <cstdint>

namespace mistral::cluster {

/// What the plugin offers; the same struct is compiled into both sides.
struct network_functions {
  /// Adds the middleman to a configuration, before the actor system exists.
  void (*load_middleman)(caf::actor_system_config&);
  /// Publishes `whom` on `port` (0: any), on `host` (nullptr: every address).
  caf::expected<std::uint16_t> (*publish)(caf::actor_system&, const caf::actor& whom, std::uint16_t port,
                                          const char* host);
  /// The middleman's actor, which dials other nodes (connect_atom).
  caf::actor (*middleman_actor)(caf::actor_system&);
};

/// The plugin's file name, looked for beside the running executable, then in
/// the build tree it was built in.
inline constexpr const char* network_plugin_name = "libmistral_cluster_io.so";

/// Opens the plugin once; the error says which files were tried and why they failed.
result<const network_functions*> network();

} // namespace mistral::cluster

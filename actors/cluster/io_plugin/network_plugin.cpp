// The cluster's use of caf::io, built as libmistral_cluster_io.so and opened
// by actors/cluster/network.cpp in cluster mode only.
#include "actors/cluster/network.hpp"

#include <caf/io/middleman.hpp>

namespace {

void load_middleman(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
}

caf::expected<std::uint16_t> publish(caf::actor_system& sys, const caf::actor& whom, std::uint16_t port,
                                     const char* host) {
  return sys.middleman().publish(whom, port, host, true);
}

caf::actor middleman_actor(caf::actor_system& sys) {
  return caf::actor_cast<caf::actor>(sys.middleman().actor_handle());
}

const mistral::cluster::network_functions functions{load_middleman, publish, middleman_actor};

} // namespace

extern "C" __attribute__((visibility("default"))) const mistral::cluster::network_functions*
mistral_cluster_network() {
  return &functions;
}

#pragma once

#include <caf/fwd.hpp>

namespace mistral::cluster {

/// Spawns an api-only node's stand-in for the engine: it takes the engine
/// messages the API sends ((start_atom, start_execution), control_msg,
/// action_result_msg) and forwards each to a live engine node found through
/// `directory` (round robin), relaying the reply. With no engine up it
/// answers an error saying so at once instead of letting the call hang.
caf::actor spawn_engine_proxy(caf::actor_system& sys, caf::actor directory);

} // namespace mistral::cluster

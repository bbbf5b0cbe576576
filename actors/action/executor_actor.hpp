#pragma once

#include <caf/fwd.hpp>

namespace mistral::actors {

/// Spawns the executor role's actor. It takes run_action_msg and runs each
/// std action on a worker thread (actions block: sleep, network); the result
/// goes back to the sender as an action_result_msg. Async actions
/// (std.async_noop, std.mistral_http) send nothing: the API completes them.
caf::actor spawn_executor(caf::actor_system& sys);

} // namespace mistral::actors

#pragma once

#include <caf/fwd.hpp>

namespace mistral::cluster {

/// Spawns an engine node's action dispatcher: the engine's `executor`
/// handle in cluster mode. It takes run_action_msg like an executor, sends
/// it to a live executor node found through `directory` (round robin among
/// those whose [executor] host equals the action's target; any executor
/// when the target is empty), gets the executor's action_result_msg itself
/// and relays it to the original requester. It tracks the actions in flight
/// per executor node: when that node dies, a safe-rerun action is sent to
/// another executor, any other completes as ERROR naming the node. Actions
/// for which no executor is there wait until one joins.
caf::actor spawn_dispatcher(caf::actor_system& sys, caf::actor directory);

} // namespace mistral::cluster

#pragma once

#include "common/json.hpp"
#include "persistence/database.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>

namespace mistral::actors {

/// Where the engine's notifications go (issue 7 item 4).
struct engine_notifications {
  /// Takes every notify_msg of this engine's executions (see execution_deps).
  caf::actor notifier;
  /// [notifier] notify: appended to params.notify of every root execution
  /// this engine starts, as Mistral's start_workflow does.
  json configured_publishers = json::array();
};

/// Spawns the engine's router: it owns the registry of execution actors,
/// starts executions (root ones from the API, sub-workflows from their
/// parent), routes action results and control requests to the owning
/// actor, and loads an execution from the store when no actor owns it.
///
/// Messages:
/// - (start_atom, start_execution) → the new execution's row (JSON text)
/// - (start_atom, sub_id, parent_id, task_id, wf_name, namespace, input, params, wb_name): a sub-workflow
/// - action_result_msg: an action finished (execution id may be empty)
/// - (finished_atom, action_result_msg): an execution finished; forwarded to its parent
/// - control_msg → the execution's row (JSON text) after the change
///
/// `field_size_limit_kb` is [engine] execution_field_size_limit_kb, enforced
/// by every execution's machine. `notifications` says where events go;
/// `instant_actions_per_commit` is [engine] instant_actions_per_commit.
caf::actor spawn_engine(caf::actor_system& sys, std::shared_ptr<persistence::database> db,
                        caf::actor executor, std::int64_t field_size_limit_kb = 1024,
                        engine_notifications notifications = {},
                        std::int64_t instant_actions_per_commit = 1000);

} // namespace mistral::actors

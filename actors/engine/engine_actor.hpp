#pragma once

#include "actors/engine/lease.hpp"
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

/// How an engine runs.
struct engine_options {
  std::int64_t field_size_limit_kb = 1024; ///< [engine] execution_field_size_limit_kb
  std::string node_name;                   ///< this engine's node ([cluster] node_name); empty: "engine"
  engine::lease_timing timing;             ///< [engine] lease_ttl, heartbeat_interval, takeover_interval
  /// The cluster directory (protocol.hpp): finds the engine that owns an
  /// execution. Invalid in single-node mode.
  caf::actor directory;
  engine_notifications notifications;             ///< where events go
  std::int64_t instant_actions_per_commit = 1000; ///< [engine] instant_actions_per_commit
  std::int64_t with_items_per_commit = 1000;      ///< [engine] with_items_per_commit
};

/// Spawns the engine's router: it owns the registry of execution actors,
/// starts executions (root ones from the API, sub-workflows from their
/// parent), routes action results and control requests to the owning
/// actor, and loads an execution from the store when no actor owns it.
///
/// Ownership (lease.hpp): the engine registers its node (a new epoch) at
/// start, writes a heartbeat every heartbeat interval from a detached actor,
/// and every takeover interval claims the executions of dead engines, its
/// own earlier epochs included (so a restart recovers at once), and
/// continues them with the restart recovery plan (recovery.hpp). A message
/// for an execution owned by a live engine is forwarded there, found
/// through the directory; one owned by a dead engine is claimed first. When
/// its heartbeat cannot be written for longer than the TTL, the engine
/// stops its executions and registers again as a new epoch.
///
/// Messages:
/// - (start_atom, start_execution) → the new execution's row (JSON text)
/// - (start_atom, sub_id, parent_id, task_id, wf_name, namespace, input, params, wb_name): a sub-workflow
/// - action_result_msg: an action finished (execution id may be empty)
/// - (finished_atom, action_result_msg): an execution finished; forwarded to its parent
/// - control_msg → the execution's row (JSON text) after the change
caf::actor spawn_engine(caf::actor_system& sys, std::shared_ptr<persistence::database> db,
                        caf::actor executor, engine_options opts = {});

} // namespace mistral::actors

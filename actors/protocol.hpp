#pragma once

// The actor protocol: every atom and message type of the engine, in one
// place. Every message has an inspect() so it can cross nodes over caf::io;
// both sides register the `mistral` type-ID block. JSON travels as text.

#include <caf/all.hpp>

#include <cstdint>
#include <string>

namespace mistral::actors {

/// Starts a workflow execution (from the API, a cron trigger or a parent task).
/// Reply: the new execution's store row as JSON text, or an error.
struct start_execution {
  std::string execution_id;
  std::string workflow_id;
  std::string workflow_name;
  std::string workflow_namespace;
  std::string spec_json;   ///< the workflow spec dict
  std::string input_json;  ///< input with defaults filled in
  std::string params_json; ///< params with env resolved to a dict
  std::string description;
  std::string tags_json;
  std::string parent_execution_id; ///< empty for a root execution
  std::string parent_task_id;
  std::string root_execution_id;
  std::string wb_name;
};

/// An executor's (or the API's, for async actions) result of one action, or
/// a sub-workflow's pause/resume/rerun on its way to the parent task (`paused`,
/// `resumed`: Mistral's on_action_update; `rerun`: its _recursive_rerun; the
/// action id is the sub-workflow's).
struct action_result_msg {
  enum : std::int32_t { success = 0, error = 1, cancelled = 2, paused = 3, resumed = 4, rerun = 5 };
  std::string execution_id; ///< may be empty: the engine looks it up by action id
  std::string action_id;
  std::int32_t kind = 0; ///< success, error, cancelled, paused, resumed or rerun
  std::string data_json;
  std::string error_json;
};

/// Asks an executor to run one std action.
struct run_action_msg {
  std::string execution_id;
  std::string action_id;
  std::string task_id;
  std::string action;
  std::string input_json;
  std::string target;
  bool safe_rerun = false;
  std::int64_t timeout = 0;
  std::string workflow_name;
};

/// Pause, resume, stop or rerun an execution. Reply: the execution row JSON.
/// `forget` ends the execution's actor without a state change (the execution
/// is being deleted); the reply comes once it has stopped writing.
struct control_msg {
  enum : std::int32_t { pause = 0, resume = 1, stop = 2, rerun = 3, forget = 4 };
  std::string execution_id;
  std::int32_t what = pause;
  std::string target_state; ///< for stop: SUCCESS, ERROR or CANCELLED
  std::string message;
  bool has_message = false;
  std::string env_json; ///< for resume/rerun
  std::string task_id;  ///< for rerun
  bool reset = true;    ///< for rerun
};

/// A durable timer fired for a task of an execution.
struct timer_msg {
  std::string execution_id;
  std::string task_id;
  std::int32_t kind = 0;
};

/// A notification for the notifier role (Mistral's Notifier.notify(ex_id,
/// data, event, timestamp, publishers)), sent by an execution actor once the
/// state change it reports is committed. The notifier hands `data_json` to
/// each publisher in `publishers_json` (params.notify entries: `type`
/// webhook or noop, plus the publisher's own keys such as `url`, `headers`).
struct notify_msg {
  std::string execution_id;    ///< the workflow or task execution the event is about
  std::string event;           ///< "WORKFLOW_LAUNCHED", ...; empty when has_event is false (None)
  bool has_event = true;       ///< false for Mistral's None event (WAITING, IDLE, DELAYED)
  std::string data_json;       ///< the JSON object sent, "event" included
  std::string publishers_json; ///< JSON list of the publishers that take the event
  std::int64_t timestamp = 0;  ///< the entity's updated_at, microseconds since the epoch
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, start_execution& x) {
  return f(caf::meta::type_name("mistral::actors::start_execution"), x.execution_id, x.workflow_id,
           x.workflow_name, x.workflow_namespace, x.spec_json, x.input_json, x.params_json, x.description,
           x.tags_json, x.parent_execution_id, x.parent_task_id, x.root_execution_id, x.wb_name);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, action_result_msg& x) {
  return f(caf::meta::type_name("mistral::actors::action_result_msg"), x.execution_id, x.action_id, x.kind,
           x.data_json, x.error_json);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_action_msg& x) {
  return f(caf::meta::type_name("mistral::actors::run_action_msg"), x.execution_id, x.action_id, x.task_id,
           x.action, x.input_json, x.target, x.safe_rerun, x.timeout, x.workflow_name);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, control_msg& x) {
  return f(caf::meta::type_name("mistral::actors::control_msg"), x.execution_id, x.what, x.target_state,
           x.message, x.has_message, x.env_json, x.task_id, x.reset);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, timer_msg& x) {
  return f(caf::meta::type_name("mistral::actors::timer_msg"), x.execution_id, x.task_id, x.kind);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notify_msg& x) {
  return f(caf::meta::type_name("mistral::actors::notify_msg"), x.execution_id, x.event, x.has_event,
           x.data_json, x.publishers_json, x.timestamp);
}

} // namespace mistral::actors

CAF_BEGIN_TYPE_ID_BLOCK(mistral, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(mistral, (mistral::actors::start_execution))
CAF_ADD_TYPE_ID(mistral, (mistral::actors::action_result_msg))
CAF_ADD_TYPE_ID(mistral, (mistral::actors::run_action_msg))
CAF_ADD_TYPE_ID(mistral, (mistral::actors::control_msg))
CAF_ADD_TYPE_ID(mistral, (mistral::actors::timer_msg))
CAF_ADD_ATOM(mistral, mistral::actors, ping_atom, "ping")
CAF_ADD_ATOM(mistral, mistral::actors, start_atom, "start")
CAF_ADD_ATOM(mistral, mistral::actors, started_atom, "started")
CAF_ADD_ATOM(mistral, mistral::actors, finished_atom, "finished")
CAF_ADD_ATOM(mistral, mistral::actors, committed_atom, "committed")
CAF_ADD_ATOM(mistral, mistral::actors, lookup_atom, "lookup")
CAF_ADD_ATOM(mistral, mistral::actors, members_atom, "members")
// notifier role (issue 7 item 4)
CAF_ADD_TYPE_ID(mistral, (mistral::actors::notify_msg))
// cluster-net: membership (join), directory subscriptions, dialing ticks.
CAF_ADD_ATOM(mistral, mistral::actors, cluster_join_atom, "cjoin")
CAF_ADD_ATOM(mistral, mistral::actors, cluster_register_atom, "creg")
CAF_ADD_ATOM(mistral, mistral::actors, cluster_subscribe_atom, "csub")
CAF_ADD_ATOM(mistral, mistral::actors, cluster_member_up_atom, "cmemberup")
CAF_ADD_ATOM(mistral, mistral::actors, cluster_member_down_atom, "cmemberdn")
CAF_ADD_ATOM(mistral, mistral::actors, cluster_tick_atom, "ctick")
CAF_ADD_ATOM(mistral, mistral::actors, cluster_waiting_atom, "cwaiting")
// perf2: an execution actor's turn to run the next chunk of its instant actions
CAF_ADD_ATOM(mistral, mistral::actors, instant_atom, "instant")
// Execution leases (engine/lease.hpp): the engine's takeover scan tick, its
// heartbeat actor's tick, and the epoch the heartbeat is written for.
CAF_ADD_ATOM(mistral, mistral::actors, takeover_atom, "takeover")
CAF_ADD_ATOM(mistral, mistral::actors, heartbeat_atom, "heartbeat")
CAF_ADD_ATOM(mistral, mistral::actors, lease_atom, "lease")
// Retiring a finished execution's actor (engine_actor.cpp): asked by the
// execution, confirmed by the engine, answered retired or revived.
CAF_ADD_ATOM(mistral, mistral::actors, retire_atom, "retire")
CAF_ADD_ATOM(mistral, mistral::actors, retired_atom, "retired")
CAF_ADD_ATOM(mistral, mistral::actors, revived_atom, "revived")
CAF_END_TYPE_ID_BLOCK(mistral)

namespace mistral::actors {

/// The supervisor of one server role on one node.
///
/// - `ping` → the role's name ("api", "engine", ...): a liveness probe.
using role_actor = caf::typed_actor<caf::replies_to<ping_atom>::with<std::string>>;

// The cluster directory (actors/cluster/, one per node) answers:
// - (lookup_atom, role, node_name) → caf::actor: that node's actor for the
//   role ("engine", "executor", "notifier"); an invalid handle when the node
//   is unknown or gone. An empty node_name means "any live node with the role".
// - (members_atom) → JSON text: [{"name", "roles": [...], "host", "port",
//   "executor_target"}, ...] for every live node, this one included.
// More of its messages (actors/cluster/directory_actor.hpp):
// - (cluster_join_atom, member_json, engine, executor, notifier) → (member_json,
//   engine, executor, notifier, members_json): a node joins; the answer is the
//   answering node's own entry and handles, and every member it knows.
// - (cluster_subscribe_atom): the sender gets (cluster_member_up_atom,
//   member_json, engine, executor, notifier) for every member now and later,
//   and (cluster_member_down_atom, node_name) when one leaves or dies.
// - (cluster_register_atom, role, actor): this node's actor for a role.
// The engine's dispatcher tells an action's requester (execution actor or
// router) (cluster_waiting_atom, execution_id, task_id, state_info) while the
// action waits for an executor, and again with "" once it was sent.

} // namespace mistral::actors

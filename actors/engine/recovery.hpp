#pragma once

// Recovery after a crash (kill -9, power loss): what the engine must do at
// start so that every execution the store holds as unfinished goes on.
//
// The store is the truth. Every decision commits the state it changed, the
// dispatch of the actions it started (in the action row's `params`) and its
// timers (delayed_calls_v2) in one transaction, and only then acts. So after
// a crash the only lost work is what was in flight:
//  - an action sent to the executor (its row is RUNNING): re-run when the
//    task is safe-rerun, otherwise failed with a clear state_info so that
//    the workflow's error handling takes over (Mistral's executor does the
//    same with a redelivered action that is not safe-rerun);
//  - a timer (wait-before/after, retry, timeout): re-armed for what is left;
//  - a sub-workflow start that never reached the engine: started again;
//  - a sub-workflow that finished while its parent had not heard of it: its
//    result is delivered again;
//  - a cancel or pause of a parent that never reached a running
//    sub-workflow: sent again.
// Completions apply once: the owning actor ignores a result for an action
// that is no longer RUNNING.
//
// plan_recovery() is pure; load_recovery_input() reads the store.

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "persistence/database.hpp"

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mistral::engine {

/// The state_info of an action that was running when the server died and
/// may not run twice.
inline constexpr const char* interrupted_action_info =
  "The action was interrupted by a server restart and is not safe to re-run (safe-rerun is false)";

/// An unfinished workflow execution as the store holds it.
struct stored_execution {
  std::string id;
  std::string state;
  std::string workflow_namespace;
  std::string wb_name;
  std::string parent_state = std::string();              ///< the parent execution's state; empty for a root
  std::optional<std::string> parent_info = std::nullopt; ///< the parent's state_info
};

/// An action execution or sub-workflow link (is_workflow) of an unfinished execution.
struct stored_action {
  std::string id;
  std::string execution_id;
  std::string task_id;
  std::string state;
  bool is_workflow = false;
  bool is_sync = true;
  json params; ///< {"dispatch": {...}} for actions, {"start": {...}} for links (see records.hpp)
};

/// A durable timer row.
struct stored_timer {
  std::string id;
  std::string execution_id;
  std::string task_id;
  int kind = 0;
  timestamp fire_at = 0;
};

/// A sub-workflow execution, by id, as far as its parent link cares.
struct stored_child {
  std::string state;
  json output;
  json state_info;
};

/// What the store says about the unfinished executions.
struct recovery_input {
  std::vector<stored_execution> executions;
  std::vector<stored_action> actions; ///< RUNNING actions and links of those executions
  std::vector<stored_timer> timers;
  std::map<std::string, stored_child> children; ///< the link targets that exist
};

/// Send the action to the executor again.
struct rerun_action {
  std::string execution_id;
  std::string action_id;
  std::string task_id;
  json dispatch; ///< {"action", "input", "target", "safe_rerun", "timeout", "workflow_name"}
};
/// Complete an action (or a link) with a result.
struct complete_action {
  std::string execution_id;
  std::string action_id;
  int kind = 1; ///< 0 success, 1 error, 2 cancelled (action_result_msg)
  json data;
  json error;
};
/// Fire a timer after `delay_us` (0: at once).
struct arm_timer {
  std::string execution_id;
  std::string task_id;
  int kind = 0;
  timestamp delay_us = 0;
};
/// Start a sub-workflow that was decided but never started.
struct restart_subworkflow {
  std::string execution_id; ///< the parent
  std::string link_id;      ///< = the sub-workflow execution's id
  std::string task_id;
  json start; ///< {"workflow_name", "namespace", "input", "params", "wb_name"}
};

/// Cancel or pause an execution whose parent was cancelled or paused.
struct control_execution {
  enum class kind { cancel, pause };
  std::string execution_id;
  kind what = kind::cancel;
  std::optional<std::string> message;
};

using recovery_step =
  std::variant<rerun_action, complete_action, arm_timer, restart_subworkflow, control_execution>;

/// The steps that make every unfinished execution of `in` go on, given the
/// time `now`. Executions are taken in the order given, each one's steps in
/// the order: actions, links, timers, then a cancel or pause its parent
/// asked for.
std::vector<recovery_step> plan_recovery(const recovery_input& in, timestamp now);

/// Reads the unfinished executions, their running actions, links, timers and
/// the state of their sub-workflows.
result<recovery_input> load_recovery_input(persistence::database& db);

/// The same for the unfinished executions among `ids` only (the ones an
/// engine has just taken over).
result<recovery_input> load_recovery_input(persistence::database& db, const std::vector<std::string>& ids);

} // namespace mistral::engine

#pragma once

// The engine core: Mistral's workflow and task semantics as a pure machine.
// decide() applies one event to an execution and returns what changed and
// the commands the actor shell must carry out (run an action, start a
// sub-workflow, arm a timer, tell the parent). No I/O, no clock, no
// randomness inside: time, ids and definitions come from machine_env.

#include "actors/action/std_actions.hpp"
#include "actors/workflow/model.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace mistral::engine {

/// An ad-hoc action resolved to the std action it finally runs.
struct resolved_action {
  std::string base;                    ///< the std action that runs
  json input = json::object();         ///< the base's input
  std::vector<json> output_transforms; ///< ad-hoc `output` clauses, innermost first
};

/// What decide() may consult besides the execution.
class machine_env {
public:
  virtual ~machine_env() = default;
  virtual timestamp now() const = 0;
  virtual std::string new_id() = 0;
  /// The ad-hoc action `name` (workbook-qualified names are tried by the caller), or nullopt.
  virtual std::optional<dsl::action_spec> find_adhoc_action(const std::string& name,
                                                            const std::string& ns) const = 0;
  /// True for a std action the executor can run.
  virtual bool is_std_action(const std::string& name) const = 0;
  /// True when a workflow `name` can be found (as Mistral resolves it from a
  /// task: `<wb>.<name>`, then the name; the namespace, then the default one).
  virtual bool workflow_exists(const std::string& name, const std::string& ns, const std::string& wb) const {
    (void)name;
    (void)ns;
    (void)wb;
    return true;
  }
  /// [engine] execution_field_size_limit_kb: the most an execution's input,
  /// output, params or published may take (negative: no limit).
  virtual std::int64_t field_size_limit_kb() const { return 1024; }
  /// Of `wanted` with-items items ready to start, how many decide() starts
  /// now (taken from a budget the caller sets). The others start on an
  /// ev_timer of kind `items` (a zero-delay timer, stored like any other, so
  /// a restart starts them too): the shell bounds the rows of one commit and
  /// the memory of a with-items over 100,000 items. By default all start.
  virtual std::size_t take_items(std::size_t wanted) { return wanted; }
  /// Mistral's "Invalid input [...]" text when `input` does not fit std action `name`.
  virtual std::optional<std::string> check_action_input(const std::string& name, const json& input) const {
    (void)name;
    (void)input;
    return std::nullopt;
  }
};

// ---- events ---------------------------------------------------------------

struct ev_start {};
/// An action (or sub-workflow, by its execution id) finished.
struct ev_action_done {
  std::string action_id;
  action::action_result result;
};
/// `join_refresh`: a join's state is checked after the events already queued,
/// as Mistral's scheduled _refresh_task_state (so parallel arrivals are seen).
/// `items`: the with-items items left for a later commit start (see
/// machine_env::take_items).
enum class timer_kind { wait_before, wait_after, retry, timeout, join_refresh, items };
struct ev_timer {
  std::string task_id;
  timer_kind kind = timer_kind::wait_before;
};
struct ev_pause {
  std::optional<std::string> msg;
};
struct ev_resume {
  json env; ///< merged into params.env when an object
};
/// Force a final state: SUCCESS, ERROR or CANCELLED (PUT /executions).
struct ev_stop {
  state target = state::cancelled;
  std::optional<std::string> msg;
};
struct ev_rerun {
  std::string task_id;
  bool reset = true;
  json env;
};
/// A sub-workflow (by its execution id) was paused or resumed: Mistral's
/// on_action_update, which carries the pause up to the parent task and workflow.
struct ev_action_update {
  std::string action_id;
  state st = state::paused; ///< PAUSED or RUNNING
  bool rerun = false;       ///< the sub-workflow is rerun: its task and this workflow run again
};
using event =
  std::variant<ev_start, ev_action_done, ev_timer, ev_pause, ev_resume, ev_stop, ev_rerun, ev_action_update>;

// ---- commands -------------------------------------------------------------

struct cmd_run_action {
  std::string action_id;
  std::string task_id;
  std::string action; ///< the std action to run
  json input;
  json target; ///< null: any executor
  bool safe_rerun = false;
  std::int64_t timeout = 0; ///< seconds, 0 = none
};
struct cmd_start_subworkflow {
  std::string execution_id; ///< the new sub-workflow execution's id
  std::string task_id;
  std::string workflow_name;
  std::string workflow_namespace;
  json input;
  json params;
};
struct cmd_schedule_timer {
  std::string task_id;
  timer_kind kind = timer_kind::wait_before;
  double delay_seconds = 0;
};
/// Forward pause/resume/cancel to sub-workflow executions.
struct cmd_control_subworkflows {
  std::vector<std::string> execution_ids;
  event what;
};
/// The execution finished: tell the parent task (if any).
struct cmd_completed {
  state final_state = state::success;
  json output;
  std::optional<std::string> state_info;
};
/// A sub-workflow was paused or resumed: tell the parent task (ev_action_update there).
struct cmd_notify_parent {
  state st = state::paused;
  bool rerun = false; ///< Mistral's _recursive_rerun: the parents run again
};
/// A notification to publish once the decision is committed (Mistral's _notify,
/// run from the post-transaction queue): made only when params.notify has a
/// publisher that takes the event. See notifications.hpp.
struct cmd_notify {
  std::string execution_id;         ///< the workflow or task execution the event is about
  std::optional<std::string> event; ///< "WORKFLOW_LAUNCHED", ...; nullopt is Mistral's None
  json data;                        ///< the data sent, "event" included
  json publishers;                  ///< the params.notify entries that take the event
  timestamp at = 0;                 ///< the entity's updated_at (Mistral's timestamp argument)
};
using command = std::variant<cmd_run_action, cmd_start_subworkflow, cmd_schedule_timer,
                             cmd_control_subworkflows, cmd_completed, cmd_notify_parent, cmd_notify>;

/// What one decide() call changed and wants done.
struct decision {
  std::vector<command> commands;
  std::set<std::string> dirty_tasks;
  std::set<std::string> dirty_actions;
  bool wf_dirty = false;
};

/// Applies `ev` to `ex`. Errors in expressions never escape: Mistral's
/// semantics turn them into failed tasks or a failed workflow.
decision decide(execution& ex, const event& ev, machine_env& env);

/// Drops every timer command that repeats an earlier one (same task, kind and
/// delay): they are one stored row (the timer id is task + kind), so one firing
/// stands for all. A fan-out arriving at a join in one decision asks for one
/// join refresh per arrival; firing them all cost a commit each.
void drop_repeated_timers(std::vector<command>& commands);

/// Checks start input against the workflow's input params: Mistral's
/// "Invalid input [name=wf, class=DirectWorkflowSpec, missing=[...], unexpected=[...]]".
std::optional<std::string> check_workflow_input(const dsl::workflow_spec& spec, const json& input);

/// The input with defaults filled in, in declaration order then extras.
json complete_workflow_input(const dsl::workflow_spec& spec, const json& input);

/// Mistral's task result: accepted executions' results by index; a list
/// for with-items; one value for a single execution.
json task_result(const execution& ex, const task_execution& t);

} // namespace mistral::engine

#pragma once

// Mistral's notifications (mistral/notifiers/, engine/workflows.py and
// engine/tasks.py _notify) as pure functions: which event a state change
// raises, which publishers of params.notify take it, and the data sent.
// The machine calls them where it changes a state; the actor shell sends
// the result to the notifier once the change is committed.

#include "actors/workflow/model.hpp"
#include "common/json.hpp"

#include <optional>
#include <string>

namespace mistral::engine {

/// Mistral's event names (notification_events.py); nullopt is Python's None.
using notification_event = std::optional<std::string>;

/// The event of a task going from `from` (nullopt: the task was just
/// created) to `to`: RUNNING is TASK_LAUNCHED, but TASK_RESUMED from IDLE,
/// PAUSED or WAITING and TASK_RERUN from ERROR; SUCCESS, ERROR, CANCELLED
/// and PAUSED are TASK_SUCCEEDED, _FAILED, _CANCELLED and _PAUSED. Other
/// targets (WAITING, IDLE, DELAYED) have no event: nullopt.
notification_event task_event(std::optional<state> from, state to);

/// The same for a workflow: RUNNING is WORKFLOW_LAUNCHED, WORKFLOW_RESUMED
/// from PAUSED and WORKFLOW_RERUN from ERROR.
notification_event workflow_event(std::optional<state> from, state to);

/// True when `params.notify` could select a publisher: a non-empty list.
/// Anything else costs nothing more (Mistral returns early too).
bool has_publishers(const json& params);

/// The entries of `params.notify` that take `event`: objects whose
/// `event_types` is missing or empty, or lists the event (a string is
/// searched as Python's `in` does). Entries that are not objects are
/// skipped. A None event goes to the unfiltered publishers, as in Mistral.
json publishers_for(const json& params, const notification_event& event);

/// The data Mistral sends for a workflow execution: id, name,
/// workflow_name, workflow_namespace, workflow_id, state, state_info,
/// project_id, task_execution_id, root_execution_id, created_at,
/// updated_at, and the event (DefaultNotifier adds it).
json workflow_notification(const workflow_execution& wf, const notification_event& event);

/// The data Mistral sends for a task execution: id, name,
/// workflow_execution_id, workflow_name, workflow_namespace, workflow_id,
/// state, state_info, type, project_id, created_at, updated_at,
/// started_at, finished_at, and the event.
json task_notification(const workflow_execution& wf, const task_execution& t,
                       const notification_event& event);

} // namespace mistral::engine

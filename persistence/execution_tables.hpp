#pragma once

#include "persistence/table.hpp"

namespace mistral::persistence {

/// workflow_executions_v2 (see schema 0003).
const table_def& workflow_executions_table();
/// task_executions_v2.
const table_def& task_executions_table();
/// action_executions_v2 (also the links of workflow tasks to sub-workflows: is_workflow).
const table_def& action_executions_table();
/// delayed_calls_v2: durable timers.
const table_def& delayed_calls_table();

} // namespace mistral::persistence

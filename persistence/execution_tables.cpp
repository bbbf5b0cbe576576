#include "persistence/execution_tables.hpp"

namespace mistral::persistence {

namespace {
using k = column_kind;
} // namespace

const table_def& workflow_executions_table() {
  static const table_def t{"workflow_executions_v2",
                           {{"id", k::text},
                            {"name", k::text},
                            {"workflow_name", k::text},
                            {"workflow_id", k::text},
                            {"workflow_namespace", k::text},
                            {"description", k::text},
                            {"tags", k::json_text},
                            {"spec", k::json_text},
                            {"state", k::text},
                            {"state_info", k::text},
                            {"input", k::json_text},
                            {"output", k::json_text},
                            {"params", k::json_text},
                            {"context", k::json_text},
                            {"runtime_context", k::json_text},
                            {"task_execution_id", k::text},
                            {"root_execution_id", k::text},
                            {"project_id", k::text},
                            {"created_at", k::timestamp},
                            {"updated_at", k::timestamp}}};
  return t;
}

const table_def& task_executions_table() {
  static const table_def t{"task_executions_v2",
                           {{"id", k::text},
                            {"name", k::text},
                            {"type", k::text},
                            {"workflow_name", k::text},
                            {"workflow_namespace", k::text},
                            {"workflow_id", k::text},
                            {"workflow_execution_id", k::text},
                            {"state", k::text},
                            {"state_info", k::text},
                            {"in_context", k::json_text},
                            {"published", k::json_text},
                            {"runtime_context", k::json_text},
                            {"processed", k::boolean},
                            {"error_handled", k::boolean},
                            {"has_next_tasks", k::boolean},
                            {"next_tasks", k::json_text},
                            {"unique_key", k::text},
                            {"executions", k::json_text},
                            {"tags", k::json_text},
                            {"project_id", k::text},
                            {"created_at", k::timestamp},
                            {"updated_at", k::timestamp},
                            {"started_at", k::timestamp},
                            {"finished_at", k::timestamp}}};
  return t;
}

const table_def& action_executions_table() {
  static const table_def t{"action_executions_v2",
                           {{"id", k::text},
                            {"name", k::text},
                            {"workflow_name", k::text},
                            {"workflow_namespace", k::text},
                            {"task_name", k::text},
                            {"task_execution_id", k::text},
                            {"workflow_execution_id", k::text},
                            {"state", k::text},
                            {"state_info", k::text},
                            {"accepted", k::boolean},
                            {"is_workflow", k::boolean},
                            {"is_sync", k::boolean},
                            {"input", k::json_text},
                            {"output", k::json_text},
                            {"params", k::json_text},
                            {"idx", k::integer},
                            {"description", k::text},
                            {"tags", k::json_text},
                            {"project_id", k::text},
                            {"created_at", k::timestamp},
                            {"updated_at", k::timestamp}}};
  return t;
}

const table_def& delayed_calls_table() {
  static const table_def t{"delayed_calls_v2",
                           {{"id", k::text},
                            {"workflow_execution_id", k::text},
                            {"task_execution_id", k::text},
                            {"kind", k::text},
                            {"fire_at", k::timestamp},
                            {"created_at", k::timestamp}}};
  return t;
}

} // namespace mistral::persistence

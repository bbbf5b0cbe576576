#include "persistence/trigger_tables.hpp"

namespace mistral::persistence {

namespace {
using k = column_kind;
}

const table_def& cron_triggers_table() {
  static const table_def t{"cron_triggers_v2",
                           {{"id", k::text},
                            {"name", k::text},
                            {"pattern", k::text},
                            {"first_execution_time", k::timestamp},
                            {"next_execution_time", k::timestamp},
                            {"workflow_name", k::text},
                            {"workflow_id", k::text},
                            {"workflow_input", k::json_text},
                            {"workflow_input_hash", k::text},
                            {"workflow_params", k::json_text},
                            {"workflow_params_hash", k::text},
                            {"remaining_executions", k::integer},
                            {"scope", k::text},
                            {"project_id", k::text},
                            {"created_at", k::timestamp},
                            {"updated_at", k::timestamp}}};
  return t;
}

const table_def& event_triggers_table() {
  static const table_def t{"event_triggers_v2",
                           {{"id", k::text},
                            {"name", k::text},
                            {"workflow_id", k::text},
                            {"workflow_input", k::json_text},
                            {"workflow_params", k::json_text},
                            {"exchange", k::text},
                            {"topic", k::text},
                            {"event", k::text},
                            {"scope", k::text},
                            {"project_id", k::text},
                            {"created_at", k::timestamp},
                            {"updated_at", k::timestamp}}};
  return t;
}

const table_def& code_sources_table() {
  static const table_def t{"code_sources",
                           {{"id", k::text},
                            {"name", k::text},
                            {"namespace", k::text},
                            {"content", k::text},
                            {"version", k::integer},
                            {"tags", k::json_text},
                            {"scope", k::text},
                            {"project_id", k::text},
                            {"created_at", k::timestamp},
                            {"updated_at", k::timestamp}}};
  return t;
}

const table_def& dynamic_actions_table() {
  static const table_def t{"dynamic_action_definitions",
                           {{"id", k::text},
                            {"name", k::text},
                            {"namespace", k::text},
                            {"class_name", k::text},
                            {"code_source_id", k::text},
                            {"code_source_name", k::text},
                            {"scope", k::text},
                            {"project_id", k::text},
                            {"created_at", k::timestamp},
                            {"updated_at", k::timestamp}}};
  return t;
}

} // namespace mistral::persistence

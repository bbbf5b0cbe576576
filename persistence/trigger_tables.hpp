#pragma once

#include "persistence/table.hpp"

namespace mistral::persistence {

/// cron_triggers_v2 (schema 0004): a workflow started on a cron pattern.
const table_def& cron_triggers_table();
/// event_triggers_v2: a workflow started by a notification (exchange, topic, event).
const table_def& event_triggers_table();
/// code_sources: named source texts that dynamic actions bind to.
const table_def& code_sources_table();
/// dynamic_action_definitions: an action name bound to a class of a code source.
const table_def& dynamic_actions_table();

} // namespace mistral::persistence

#pragma once

// The cron triggers' rows as the scheduler uses them: which are due, how a
// slot is claimed so that it fires once even when several engine processes
// share the database, and the execution a fired trigger starts.

#include "actors/cron/cron_schedule.hpp"
#include "actors/engine/start_request.hpp"
#include "persistence/database.hpp"

#include <vector>

namespace mistral::cron {

/// The triggers due at `now` (next_execution_time < now + 2 s), earliest first.
result<std::vector<persistence::record>> due_triggers(persistence::database& db, timestamp now);

/// The schedule state of a stored trigger row.
trigger_slot slot_of(const persistence::record& trigger);

/// Claims the slot the row `trigger` was read with: one conditional UPDATE
/// (or DELETE for its last execution) that matches only while
/// next_execution_time and remaining_executions still hold the values read.
/// true when this caller won the slot; false when another process did, or
/// the trigger is gone.
result<bool> claim_slot(persistence::database& db, const persistence::record& trigger, const slot_claim& plan,
                        timestamp now);

/// The execution a fired trigger starts, with Mistral's description
/// {"description": "Workflow execution created by cron trigger '(<id>)'.",
///  "triggered_by": {"type": "cron_trigger", "id": .., "name": ..}}.
engine::start_request fired_request(const persistence::record& trigger);

} // namespace mistral::cron

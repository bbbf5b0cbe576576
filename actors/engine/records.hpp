#pragma once

// The engine model as store rows and back.

#include "actors/workflow/machine.hpp"
#include "persistence/database.hpp"

namespace mistral::engine {

/// The whole rows (every column) of a workflow, task and action execution.
persistence::record to_record(const workflow_execution& wf, const json& spec_raw);
persistence::record to_record(const task_execution& t, const workflow_execution& wf);
/// The row the engine answers a start or a control with, as text: every
/// column of to_record but the spec. Neither answer shows the spec (nor
/// published_global, which needs its vars), and it was most of the bytes,
/// dumped by the engine and scanned by the API for nothing.
std::string answer_row_text(const workflow_execution& wf);
persistence::record to_record(const action_execution& a, const task_execution* t,
                              const workflow_execution& wf);

/// The writes that persist what `d` changed in `ex`, with the outbox that
/// recovery needs (recovery.hpp): an action row's `params` holds the dispatch
/// of a started action ({"dispatch": ...}) or sub-workflow ({"start": ...}),
/// and each scheduled timer gets its delayed_calls_v2 row, due at `now` plus
/// its delay. All of it commits in one transaction.
///
/// A row's first write carries all of its columns; once its `stored` flag is
/// set (by this call, or by load_execution) only the columns that can change
/// are written (the upsert leaves the others as they are): the spec, input
/// and names of a workflow are written once, not at every state change.
/// The caller must not reuse `ex` if these writes are not committed.
std::vector<persistence::write_op> writes_for(execution& ex, const decision& d, timestamp now);

/// The delayed_calls_v2 id of the timer of `kind` on task `task_id`.
std::string timer_id(const std::string& task_id, int kind);

/// Rebuilds an execution from the store (spec from its `spec` column).
result<execution> load_execution(persistence::database& db, const std::string& id);

} // namespace mistral::engine

#pragma once

// The engine model as store rows and back.

#include "actors/workflow/machine.hpp"
#include "persistence/database.hpp"

namespace mistral::engine {

persistence::record to_record(const workflow_execution& wf, const json& spec_raw);
persistence::record to_record(const task_execution& t, const workflow_execution& wf);
persistence::record to_record(const action_execution& a, const task_execution* t,
                              const workflow_execution& wf);

/// The writes that persist what `d` changed in `ex`.
std::vector<persistence::write_op> writes_for(const execution& ex, const decision& d);

/// Rebuilds an execution from the store (spec from its `spec` column).
result<execution> load_execution(persistence::database& db, const std::string& id);

} // namespace mistral::engine

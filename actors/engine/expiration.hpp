#pragma once

// [execution_expiration_policy]: Mistral's services/expiration_policy.py.
// Every evaluation_interval minutes the engine deletes finished root
// executions (with their tasks, action executions, timers and sub-workflow
// executions) that were last updated more than older_than minutes ago, then
// the oldest finished ones beyond the newest max_finished_executions, in
// batches of batch_size (0: all at once), skipping ignored_states.

#include "common/clock.hpp"
#include "common/error.hpp"
#include "config/config.hpp"
#include "persistence/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mistral::engine {

struct expiration_policy {
  std::optional<std::int64_t> evaluation_interval_min; ///< unset (None): off
  std::optional<std::int64_t> older_than_min;
  std::int64_t max_finished_executions = 0;
  std::int64_t batch_size = 0;
  std::vector<std::string> ignored_states;

  /// As Mistral decides: an interval, and older_than >= 1 or max_finished_executions >= 1.
  bool enabled() const;
};

/// Reads the policy; Mistral's ValueError text when an ignored state is not
/// a terminal one ("X is not a terminal state. The valid states are [...]").
result<expiration_policy> read_expiration_policy(const config::config& cfg);

/// The states a deletable execution may be in: SUCCESS, ERROR and CANCELLED
/// minus the ignored ones.
std::vector<std::string> deletable_states(const expiration_policy& p);

/// get_expired_executions: finished root executions updated before
/// now - older_than, at most batch_size of them. Nullopt without older_than.
std::optional<persistence::list_query> expired_query(const expiration_policy& p, timestamp now);

/// get_superfluous_executions: finished root executions after the newest
/// max_finished_executions, at most batch_size. Nullopt when that is 0.
std::optional<persistence::list_query> superfluous_query(const expiration_policy& p);

/// Deletes root executions and everything under them in one transaction.
status delete_execution_trees(persistence::database& db, const std::vector<std::string>& root_ids);

/// One evaluation: deletes batch after batch until nothing is left to
/// delete. Returns how many root executions went.
result<std::int64_t> run_expiration_policy(persistence::database& db, const expiration_policy& p,
                                           timestamp now);

} // namespace mistral::engine

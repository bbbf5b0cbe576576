#pragma once

// Execution ownership when several engines share one store (DESIGN.md
// principle 2).
//
// Each engine process is an incarnation of its node: (name, epoch), the
// epoch one more than the last one of that name, with its own engine_nodes
// row and a heartbeat it rewrites every heartbeat interval (one UPDATE per
// engine, whatever the number of executions). Each execution has one
// execution_leases row naming its owner (node, epoch):
//  - the engine that starts an execution owns it: the row is inserted in the
//    transaction of the execution's first commit (own_op);
//  - every later commit of the execution carries a fence (fence_op): a
//    compare-and-set on the row, inside the same transaction, that fails
//    the commit when another engine owns the execution now;
//  - an execution whose owner is dead (its heartbeat did not change for
//    longer than the TTL on this engine's clock, or it has no row) is taken
//    over: claim() is a compare-and-set from the old owner, so of several
//    engines one wins; the winner continues the execution from the store
//    with the restart recovery plan (recovery.hpp);
//  - a restarted engine takes the executions of the earlier epochs of its
//    own name over at once, in its first scan (the restart case), without
//    waiting for the TTL. Two live processes that share a node name do not
//    fight: after that first scan each judges the other by its heartbeat.
//
// Liveness is measured on the observer's steady clock (the heartbeat value
// only has to change), so engines on different hosts need no clock sync.
//
// The planning part (liveness_view, route_message, plan_takeover) is pure;
// the functions under "store" read and write the rows.

#include "common/clock.hpp"
#include "common/error.hpp"
#include "persistence/database.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mistral::engine {

/// An engine incarnation as the lease rows name it.
struct lease_owner {
  std::string node;
  std::int64_t epoch = 0; ///< 0: not registered (no lease can be held)

  bool operator==(const lease_owner&) const = default;
};

/// An engine_nodes row: one engine incarnation.
struct node_row {
  std::string name;
  std::int64_t epoch = 0;
  timestamp heartbeat_at = 0; ///< the writer's wall clock; only its changes matter
};

/// The engine_nodes id of incarnation (name, epoch).
std::string incarnation_id(const std::string& name, std::int64_t epoch);

/// An execution_leases row.
struct lease_row {
  std::string execution_id;
  std::string owner_node;
  std::int64_t owner_epoch = 0;
  bool finished = false;

  bool operator==(const lease_row&) const = default;
};

/// [engine] lease timing, in microseconds.
struct lease_timing {
  timestamp ttl_us = 3'000'000;       ///< [engine] lease_ttl
  timestamp heartbeat_us = 1'000'000; ///< [engine] heartbeat_interval
  timestamp takeover_us = 500'000;    ///< [engine] takeover_interval
};

/// Which engine incarnations are alive, as this engine sees them: a node is
/// alive while its heartbeat keeps changing.
class liveness_view {
public:
  explicit liveness_view(timestamp ttl_us = 3'000'000) : ttl_(ttl_us) {}

  /// Takes every engine_nodes row, read at `now` (this engine's steady
  /// clock, µs). An incarnation whose heartbeat changed counts from `now`.
  void observe(const std::vector<node_row>& rows, timestamp now);

  /// Whether the owner (node, epoch) of a lease is dead at `now`: it has no
  /// row, or its heartbeat has not changed for longer than the TTL. `me` is
  /// never dead.
  bool dead(const std::string& node, std::int64_t epoch, const lease_owner& me, timestamp now) const;

  /// The incarnations last observed, by node name then epoch.
  const std::map<std::string, std::map<std::int64_t, node_row>>& nodes() const { return rows_; }

private:
  timestamp ttl_;
  std::map<std::string, std::map<std::int64_t, node_row>> rows_;
  std::map<std::pair<std::string, std::int64_t>, timestamp> changed_at_;
};

/// What to do with a message for an execution this engine has no actor for.
struct route {
  enum class kind {
    local,     ///< this engine owns it: load it from the store
    forward,   ///< a live engine owns it: send the message there
    claim,     ///< its owner is dead: claim it (then take it over)
    claim_new, ///< no lease row (finished before leases existed): insert one
  };
  kind what = kind::local;
  std::string node; ///< forward: the owner's node name
};

/// Where a message for an execution goes, given its lease row.
route route_message(const std::optional<lease_row>& lease, const lease_owner& me, const liveness_view& view,
                    timestamp now);

/// The unfinished leases among `candidates` this engine should claim: the
/// ones whose owner is dead and not this engine; with `restart` (the first
/// scan of an incarnation) also those of earlier epochs of its own name.
std::vector<lease_row> plan_takeover(const std::vector<lease_row>& candidates, const lease_owner& me,
                                     const liveness_view& view, timestamp now, bool restart = false);

// ---- store ----

/// The insert that makes `me` the owner of a new execution; in the
/// transaction of its first commit (a second owner fails the commit).
persistence::write_op own_op(const std::string& execution_id, const lease_owner& me, timestamp now_wall);

/// The fence of every later commit: fails the transaction unless `me` still
/// owns the execution; records whether it is `finished`.
persistence::write_op fence_op(const std::string& execution_id, const lease_owner& me, bool finished);

/// Whether a commit failed because of its fence.
bool is_fenced(const error& e);

/// Registers a new incarnation of node `name`: the epoch after the last
/// one of that name (1 for a new name).
result<std::int64_t> register_node(persistence::database& db, const std::string& name, timestamp now_wall);

/// Writes `me`'s heartbeat. False when `me`'s row is gone.
result<bool> write_heartbeat(persistence::database& db, const lease_owner& me, timestamp now_wall);

/// Every engine_nodes row.
result<std::vector<node_row>> read_nodes(persistence::database& db);

/// The lease row of `execution_id`, if any.
result<std::optional<lease_row>> read_lease(persistence::database& db, const std::string& execution_id);

/// The unfinished leases a takeover scan must look at, given the rows of
/// `view`: those of dead incarnations and of owners without a row (with
/// `restart`, also those of earlier epochs of `me`'s name). Live
/// incarnations' leases are not read.
result<std::vector<lease_row>> read_takeover_candidates(persistence::database& db, const lease_owner& me,
                                                        const liveness_view& view, timestamp now,
                                                        bool restart = false);

/// Moves the lease from its owner in `seen` to `me` if nobody moved it
/// since (compare-and-set). True when this engine won.
result<bool> claim(persistence::database& db, const lease_row& seen, const lease_owner& me,
                   timestamp now_wall);

/// claim() for many leases at once: one compare-and-set UPDATE per old
/// owner and chunk of ids, then one read of which moved to `me`. Returns
/// the ids this engine won.
result<std::vector<std::string>> claim_all(persistence::database& db, const std::vector<lease_row>& seen,
                                           const lease_owner& me, timestamp now_wall);

/// Creates the missing lease of `execution_id` for `me`. False when another
/// engine created it first.
result<bool> claim_new(persistence::database& db, const std::string& execution_id, const lease_owner& me,
                       timestamp now_wall);

} // namespace mistral::engine

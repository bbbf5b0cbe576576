#pragma once

#include "actors/engine/lease.hpp"
#include "actors/workflow/model.hpp"
#include "persistence/database.hpp"

#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>

#include <cstdint>
#include <memory>

namespace mistral::actors {

/// What an execution actor works with.
struct execution_deps {
  std::shared_ptr<persistence::database> db;
  caf::actor engine;                       ///< the router: sub-workflows, completion reports
  caf::actor executor;                     ///< runs actions
  std::int64_t field_size_limit_kb = 1024; ///< [engine] execution_field_size_limit_kb
  /// Takes notify_msg once a decision is committed: the notifier role's
  /// actor, or the client that finds one (actors/notifier). Invalid: the
  /// notifications are logged as lost.
  caf::actor notifier;
  std::int64_t instant_actions_per_commit = 1000; ///< [engine] instant_actions_per_commit
  engine::lease_owner owner;                      ///< the engine incarnation that owns the execution
  std::int64_t with_items_per_commit = 1000;      ///< [engine] with_items_per_commit
};

/// Spawns the actor that owns one workflow execution: it applies events
/// through the pure machine, commits what changed, then carries out the
/// commands. `start` is true for a new execution (ev_start is applied at
/// once and `starter` gets the committed row); false when resuming one
/// loaded from the store.
///
/// Ownership (engine/lease.hpp): the first commit of a new execution
/// inserts its lease for `deps.owner`; every other commit is fenced by it.
/// A fenced commit is rolled back and the actor stops without acting:
/// another engine owns the execution now. The actor also stops when its
/// engine does, as a crashed engine process takes its executions down.
caf::actor spawn_execution(caf::actor_system& sys, execution_deps deps, engine::execution ex, bool start,
                           caf::response_promise starter);

} // namespace mistral::actors

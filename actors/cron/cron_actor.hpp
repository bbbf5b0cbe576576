#pragma once

#include "common/clock.hpp"
#include "persistence/database.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

namespace mistral::actors {

/// Spawns the cron scheduler of an engine node (Mistral's periodic
/// process_cron_triggers_v2). Every `interval` it reads the due triggers,
/// claims each slot with a conditional UPDATE (so a slot fires once however
/// many engine processes share the store), and asks `engine` to start the
/// execution with (start_atom, start_execution). Failures are logged and the
/// next tick goes on. It runs detached: its store calls block.
caf::actor spawn_cron_scheduler(caf::actor_system& sys, std::shared_ptr<persistence::database> db,
                                caf::actor engine, std::shared_ptr<const clock> clk,
                                std::chrono::milliseconds interval);

} // namespace mistral::actors

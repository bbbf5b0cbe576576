#pragma once

#include "actors/engine/expiration.hpp"

#include <caf/fwd.hpp>

#include <memory>

namespace mistral::actors {

/// Spawns the engine role's periodic expiration task: it runs the policy at
/// once, then every evaluation_interval minutes, on its own thread (the
/// deletes must not hold the scheduler's workers). Only for an enabled policy.
caf::actor spawn_expiration(caf::actor_system& sys, std::shared_ptr<persistence::database> db,
                            engine::expiration_policy policy);

} // namespace mistral::actors

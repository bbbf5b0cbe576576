#include "actors/engine/expiration_actor.hpp"

#include "common/log.hpp"

#include <caf/all.hpp>

#include <chrono>

namespace mistral::actors {

namespace {

caf::behavior expiration(caf::event_based_actor* self, std::shared_ptr<persistence::database> db,
                         engine::expiration_policy policy) {
  auto interval = std::chrono::minutes(*policy.evaluation_interval_min);
  self->send(self, caf::tick_atom_v); // run_immediately, as Mistral's periodic task
  return {
    [=](caf::tick_atom) {
      auto deleted = engine::run_expiration_policy(*db, policy, system_clock{}.now());
      if (!deleted.ok())
        log::warning("expiration", "expiration policy failed: " + deleted.err().message);
      else if (*deleted > 0)
        log::info("expiration", "deleted " + std::to_string(*deleted) + " expired execution(s)");
      self->delayed_send(self, interval, caf::tick_atom_v);
    },
  };
}

} // namespace

caf::actor spawn_expiration(caf::actor_system& sys, std::shared_ptr<persistence::database> db,
                            engine::expiration_policy policy) {
  return sys.spawn<caf::detached>(expiration, std::move(db), std::move(policy));
}

} // namespace mistral::actors

#include "actors/cron/cron_actor.hpp"

#include "actors/cron/cron_store.hpp"
#include "actors/protocol.hpp"
#include "common/log.hpp"

namespace mistral::actors {

namespace {

using tick_atom = caf::atom_constant<caf::atom("crontick")>;

struct cron_state {
  static inline const char* name = "mistral.cron";
  std::shared_ptr<persistence::database> db;
  caf::actor engine;
  std::shared_ptr<const clock> clk;
  std::chrono::milliseconds interval{1000};
};

using self_ptr = caf::stateful_actor<cron_state>*;

void start_execution_of(self_ptr self, const persistence::record& trigger) {
  const std::string name = trigger.value("name", "");
  auto start = engine::build_start_execution(self->state.db, cron::fired_request(trigger));
  if (!start.ok()) {
    log::warning("cron", "Failed to process cron trigger " + name + ": " + start.err().message);
    return;
  }
  log::info("cron", "Starting workflow '" + start->workflow_name + "' by cron trigger '" + name + "'");
  self->request(self->state.engine, std::chrono::seconds(60), start_atom_v, std::move(*start))
    .then([](const std::string&) {},
          [self, name](caf::error& e) {
            log::warning("cron", "cron trigger " + name + " could not start: " + self->system().render(e));
          });
}

void fire_due_triggers(self_ptr self) {
  auto& st = self->state;
  const timestamp now = st.clk->now();
  auto due = cron::due_triggers(*st.db, now);
  if (!due.ok()) {
    log::warning("cron", "cannot read cron triggers: " + due.err().message);
    return;
  }
  for (const auto& trigger : *due) {
    auto plan = cron::plan_claim(cron::slot_of(trigger), now);
    if (!plan.ok()) {
      log::warning("cron",
                   "Failed to process cron trigger " + trigger.value("name", "") + ": " + plan.err().message);
      continue;
    }
    auto won = cron::claim_slot(*st.db, trigger, *plan, now);
    if (!won.ok())
      log::warning("cron",
                   "cannot claim cron trigger " + trigger.value("name", "") + ": " + won.err().message);
    else if (*won)
      start_execution_of(self, trigger);
  }
}

caf::behavior cron_scheduler(self_ptr self, std::shared_ptr<persistence::database> db, caf::actor engine,
                             std::shared_ptr<const clock> clk, std::chrono::milliseconds interval) {
  self->state.db = std::move(db);
  self->state.engine = std::move(engine);
  self->state.clk = std::move(clk);
  self->state.interval = interval;
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) {
      fire_due_triggers(self);
      self->delayed_send(self, self->state.interval, tick_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_cron_scheduler(caf::actor_system& sys, std::shared_ptr<persistence::database> db,
                                caf::actor engine, std::shared_ptr<const clock> clk,
                                std::chrono::milliseconds interval) {
  return sys.spawn<caf::detached>(cron_scheduler, std::move(db), std::move(engine), std::move(clk), interval);
}

} // namespace mistral::actors

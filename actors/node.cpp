#include "actors/node.hpp"

#include "actors/action/executor_actor.hpp"
#include "actors/cron/cron_actor.hpp"
#include "actors/engine/engine_actor.hpp"
#include "actors/engine/expiration_actor.hpp"
#include "actors/protocol.hpp"
#include "common/log.hpp"

#include <unistd.h>

#include <vector>

namespace mistral::actors {

namespace {

struct role_state {
  std::string name;
};

// A role's supervisor. The engine, executor and notifier issues give it
// children; until then it only proves the role runs.
role_actor::behavior_type role_supervisor(role_actor::stateful_pointer<role_state> self, std::string name) {
  self->state.name = std::move(name);
  return {
    [=](ping_atom) -> std::string { return self->state.name; },
  };
}

} // namespace

struct node::impl {
  explicit impl(std::unique_ptr<caf::actor_system_config> c) : caf_cfg(std::move(c)), system(*caf_cfg) {}
  cluster::role_set roles;
  std::unique_ptr<caf::actor_system_config> caf_cfg; // must outlive `system`
  caf::actor_system system;
  std::vector<role_actor> supervisors;
  caf::actor executor;
  caf::actor engine;
  caf::actor cron;
  caf::actor expiration;
  std::shared_ptr<persistence::database> db;
};

namespace {

std::unique_ptr<caf::actor_system_config> make_caf_config(const config::config&) {
  auto cfg = std::make_unique<caf::actor_system_config>();
  cfg->add_message_types<caf::id_block::mistral>();
  // Requests come from HTTP threads: the sharing policy wakes actors faster
  // than work stealing's sleep back-off (STACK.md §3.4).
  cfg->set("scheduler.policy", caf::atom("sharing"));
  cfg->set("scheduler.max-threads", 2);
  return cfg;
}

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    return "localhost";
  return host;
}

timestamp seconds_us(double s) {
  return static_cast<timestamp>(s * 1e6);
}

engine_options engine_options_of(const config::config& cfg) {
  engine_options o;
  o.field_size_limit_kb = cfg.get_int("engine", "execution_field_size_limit_kb", 1024);
  o.node_name = cfg.get_string("cluster", "node_name");
  if (o.node_name.empty())
    o.node_name = host_name();
  o.timing.ttl_us = seconds_us(cfg.get_float("engine", "lease_ttl", 3.0));
  o.timing.heartbeat_us = seconds_us(cfg.get_float("engine", "heartbeat_interval", 1.0));
  o.timing.takeover_us = seconds_us(cfg.get_float("engine", "takeover_interval", 0.5));
  return o;
}

} // namespace

node::node(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

node::~node() {
  stop();
  if (!impl_)
    return;
  // Commits still in flight hold handles to actors: they must be released
  // while the actor system is alive.
  impl_->system.await_all_actors_done();
  if (impl_->db)
    impl_->db->flush();
}

result<std::unique_ptr<node>> node::start(const config::config& cfg, const cluster::role_set& roles,
                                          std::shared_ptr<persistence::database> db) {
  auto policy = engine::read_expiration_policy(cfg);
  if (!policy.ok())
    return std::move(policy).err();
  auto state = std::make_unique<impl>(make_caf_config(cfg));
  state->db = db;
  state->roles = roles;
  for (const auto& name : roles.names()) {
    state->supervisors.push_back(state->system.spawn(role_supervisor, name));
    log::info("node", "role " + name + " started");
  }
  if (roles.executor)
    state->executor = spawn_executor(state->system);
  if (roles.engine && policy->enabled())
    state->expiration = spawn_expiration(state->system, db, *policy);
  if (roles.engine)
    state->engine = spawn_engine(state->system, db, state->executor, engine_options_of(cfg));
  if (roles.engine && cfg.get_bool("cron_trigger", "enabled", true)) {
    auto interval =
      std::chrono::seconds(std::max<std::int64_t>(1, cfg.get_int("cron_trigger", "execution_interval", 1)));
    state->cron =
      spawn_cron_scheduler(state->system, db, state->engine, std::make_shared<system_clock>(), interval);
  }
  return std::unique_ptr<node>(new node(std::move(state)));
}

const caf::actor& node::engine() const {
  return impl_->engine;
}

caf::actor_system& node::system() {
  return impl_->system;
}

const cluster::role_set& node::roles() const {
  return impl_->roles;
}

void node::stop() {
  if (!impl_)
    return;
  for (auto& sup : impl_->supervisors)
    caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  impl_->supervisors.clear();
  for (auto* a : {&impl_->cron, &impl_->engine, &impl_->executor, &impl_->expiration})
    if (*a)
      caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
}

} // namespace mistral::actors

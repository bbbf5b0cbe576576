#include "actors/node.hpp"

#include "actors/action/executor_actor.hpp"
#include "actors/cluster/directory_actor.hpp"
#include "actors/cluster/dispatcher_actor.hpp"
#include "actors/cluster/engine_proxy_actor.hpp"
#include "actors/cluster/network.hpp"
#include "actors/cluster/settings.hpp"
#include "actors/cron/cron_actor.hpp"
#include "actors/engine/engine_actor.hpp"
#include "actors/engine/expiration_actor.hpp"
#include "actors/notifier/notifier_actor.hpp"
#include "actors/protocol.hpp"
#include "common/log.hpp"

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
  caf::actor notifier;        ///< the notifier role's actor, when it runs here
  caf::actor local_notifier;  ///< without the role: the notifier the engine falls back to
  caf::actor notifier_client; ///< without the role: the engine's way to a notifier
  cluster::settings cluster;
  caf::actor directory;    ///< cluster mode only
  caf::actor dispatcher;   ///< cluster mode, engine role: the engine's executor handle
  caf::actor engine_proxy; ///< cluster mode, api without engine: the API's engine handle
  std::shared_ptr<persistence::database> db;
};

namespace {

// `network`: the cluster plugin, in cluster mode only.
std::unique_ptr<caf::actor_system_config> make_caf_config(const config::config& settings,
                                                          const cluster::network_functions* network) {
  auto cfg = std::make_unique<caf::actor_system_config>();
  cfg->add_message_types<caf::id_block::mistral>();
  if (network) {
    network->load_middleman(*cfg);
    // A node that dies closes its connections at once; heartbeats catch a
    // peer that vanished without closing them (a host or link down).
    cfg->set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
    cfg->set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
  }
  // Requests come from HTTP threads: the sharing policy wakes actors faster
  // than work stealing's sleep back-off (STACK.md §3.4).
  cfg->set("scheduler.policy", caf::atom("sharing"));
  cfg->set("scheduler.max-threads",
           std::max<std::int64_t>(1, settings.get_int("engine", "actor_threads", 1)));
  return cfg;
}

timestamp seconds_us(double s) {
  return static_cast<timestamp>(s * 1e6);
}

// The engine's lease rows name it by its cluster node name ([cluster]
// node_name, the host name by default); in cluster mode it finds the other
// engines through the directory.
engine_options engine_options_of(const config::config& cfg, const std::string& node_name,
                                 caf::actor directory) {
  engine_options o;
  o.field_size_limit_kb = cfg.get_int("engine", "execution_field_size_limit_kb", 1024);
  o.node_name = node_name;
  o.directory = std::move(directory);
  o.timing.ttl_us = seconds_us(cfg.get_float("engine", "lease_ttl", 3.0));
  o.timing.heartbeat_us = seconds_us(cfg.get_float("engine", "heartbeat_interval", 1.0));
  o.timing.takeover_us = seconds_us(cfg.get_float("engine", "takeover_interval", 0.5));
  o.instant_actions_per_commit = cfg.get_int("engine", "instant_actions_per_commit", 1000);
  o.with_items_per_commit = cfg.get_int("engine", "with_items_per_commit", 1000);
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
  auto cl = cluster::read_settings(cfg, cluster::local_host_name());
  if (!cl.ok())
    return std::move(cl).err();
  const cluster::network_functions* network = nullptr;
  if (cl->enabled) {
    auto loaded = cluster::network();
    if (!loaded.ok())
      return std::move(loaded).err();
    network = *loaded;
  }
  auto state = std::make_unique<impl>(make_caf_config(cfg, network));
  state->db = db;
  state->roles = roles;
  state->cluster = *cl;
  for (const auto& name : roles.names()) {
    state->supervisors.push_back(state->system.spawn(role_supervisor, name));
    log::info("node", "role " + name + " started");
  }
  if (roles.executor)
    state->executor = spawn_executor(state->system);
  if (cl->enabled) {
    state->directory = cluster::spawn_directory(state->system, {cl->self_member(roles), cl->seeds});
    if (roles.engine)
      state->dispatcher = cluster::spawn_dispatcher(state->system, state->directory);
  }
  if (roles.engine && policy->enabled())
    state->expiration = spawn_expiration(state->system, db, *policy);
  auto notifier_settings = notifier::read_settings(cfg);
  if (roles.notifier)
    state->notifier = spawn_notifier(state->system, notifier_settings);
  if (roles.engine) {
    engine_notifications notifications;
    std::vector<std::string> warnings;
    notifications.configured_publishers = notifier::config_publishers(cfg, &warnings);
    for (const auto& w : warnings)
      log::warning("node", w);
    notifications.notifier = state->notifier;
    if (!notifications.notifier) {
      // No notifier role in this process: a notifier node found through the
      // cluster directory publishes the events; without one (or outside
      // cluster mode) a local notifier does.
      state->local_notifier = spawn_notifier(state->system, notifier_settings);
      state->notifier_client = spawn_notifier_client(state->system, state->local_notifier, state->directory);
      notifications.notifier = state->notifier_client;
    }
    auto opts = engine_options_of(cfg, cl->node_name, state->directory);
    opts.notifications = std::move(notifications);
    state->engine =
      spawn_engine(state->system, db, cl->enabled ? state->dispatcher : state->executor, std::move(opts));
  }
  if (roles.engine && cfg.get_bool("cron_trigger", "enabled", true)) {
    auto interval =
      std::chrono::seconds(std::max<std::int64_t>(1, cfg.get_int("cron_trigger", "execution_interval", 1)));
    state->cron =
      spawn_cron_scheduler(state->system, db, state->engine, std::make_shared<system_clock>(), interval);
  }
  std::unique_ptr<node> out(new node(std::move(state)));
  if (cl->enabled) {
    if (auto joined = out->join_cluster(); !joined.ok()) {
      out->stop();
      return std::move(joined).err();
    }
  }
  return out;
}

status node::join_cluster() {
  auto& st = *impl_;
  auto dir = st.directory;
  caf::anon_send(dir, cluster_register_atom_v, std::string("engine"), st.engine);
  caf::anon_send(dir, cluster_register_atom_v, std::string("executor"), st.executor);
  if (st.notifier)
    caf::anon_send(dir, cluster_register_atom_v, std::string("notifier"), st.notifier);
  if (st.roles.api && !st.roles.engine)
    st.engine_proxy = cluster::spawn_engine_proxy(st.system, dir);
  if (st.cluster.listen_port != 0) {
    const char* in = st.cluster.listen_host.empty() ? nullptr : st.cluster.listen_host.c_str();
    auto network = cluster::network();
    if (!network.ok())
      return std::move(network).err();
    auto port = (*network)->publish(st.system, dir, st.cluster.listen_port, in);
    if (!port)
      return error(errc::unavailable, "cannot listen for cluster nodes on " + st.cluster.listen_host + ":" +
                                        std::to_string(st.cluster.listen_port) + ": " +
                                        st.system.render(port.error()));
  }
  caf::anon_send(dir, start_atom_v);
  log::info(
    "cluster", "node '" + st.cluster.node_name + "' (" +
                 [&] {
                   std::string r;
                   for (const auto& n : st.roles.names())
                     r += (r.empty() ? "" : ",") + n;
                   return r;
                 }() +
                 ") listening on " + st.cluster.listen_host + ":" + std::to_string(st.cluster.listen_port));
  return ok_v;
}

const caf::actor& node::engine() const {
  return impl_->engine ? impl_->engine : impl_->engine_proxy;
}

const caf::actor& node::directory() const {
  return impl_->directory;
}

const std::string& node::node_name() const {
  return impl_->cluster.node_name;
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
  for (auto* a : {&impl_->cron, &impl_->engine, &impl_->executor, &impl_->expiration, &impl_->notifier,
                  &impl_->notifier_client, &impl_->local_notifier, &impl_->directory, &impl_->dispatcher,
                  &impl_->engine_proxy})
    if (*a)
      caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
}

} // namespace mistral::actors

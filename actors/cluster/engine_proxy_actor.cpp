#include "actors/cluster/engine_proxy_actor.hpp"

#include "actors/cluster/membership.hpp"
#include "actors/protocol.hpp"
#include "common/log.hpp"

#include <map>

namespace mistral::cluster {

namespace {

using namespace mistral::actors;

// As long as the API waits for the engine itself (api/caf_engine_client).
constexpr auto engine_timeout = std::chrono::seconds(60);

struct proxy_state {
  static inline const char* name = "mistral.cluster.engine_proxy";
  member_table engines;
  std::map<std::string, caf::actor> handles;
  std::string last_pick;
};

using self_ptr = caf::stateful_actor<proxy_state>*;

caf::actor pick_engine(self_ptr self) {
  auto& st = self->state;
  auto pick = next_after(st.engines.with_role("engine"), st.last_pick);
  if (!pick)
    return {};
  st.last_pick = *pick;
  return st.handles[*pick];
}

caf::error no_engine() {
  // Mistral's API answers an RPC timeout when no engine listens; say why.
  return caf::make_error(
    caf::sec::no_route_to_receiving_node,
    "MessagingTimeout: no engine node is running in the cluster, the request was not sent");
}

template <class... Ts>
caf::result<std::string> forward(self_ptr self, Ts&&... xs) {
  auto engine = pick_engine(self);
  if (!engine)
    return no_engine();
  auto rp = self->make_response_promise<std::string>();
  self->request(engine, engine_timeout, std::forward<Ts>(xs)...)
    .then([rp](std::string& row) mutable { rp.deliver(std::move(row)); },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  return rp;
}

caf::behavior engine_proxy(self_ptr self, caf::actor directory) {
  self->send(directory, cluster_subscribe_atom_v);
  return {
    [self](start_atom, start_execution& req) -> caf::result<std::string> {
      return forward(self, start_atom_v, std::move(req));
    },
    [self](control_msg& m) -> caf::result<std::string> { return forward(self, std::move(m)); },
    [self](action_result_msg& m) {
      if (auto engine = pick_engine(self))
        self->send(engine, std::move(m));
      else
        log::error("cluster",
                   "no engine node is running: the result of action " + m.action_id + " was dropped");
    },
    [self](cluster_member_up_atom, const std::string& info_json, caf::actor& engine, caf::actor&,
           caf::actor&) {
      auto info = member_from_json(json::parse(info_json, nullptr, false));
      if (!info.ok() || !info->has_role("engine") || !engine)
        return;
      self->state.engines.upsert(*info);
      self->state.handles[info->name] = engine;
    },
    [self](cluster_member_down_atom, const std::string& name) {
      self->state.engines.remove(name);
      self->state.handles.erase(name);
    },
  };
}

} // namespace

caf::actor spawn_engine_proxy(caf::actor_system& sys, caf::actor directory) {
  return sys.spawn(engine_proxy, std::move(directory));
}

} // namespace mistral::cluster

#include "actors/cluster/directory_actor.hpp"

#include "actors/cluster/network.hpp"
#include "actors/protocol.hpp"
#include "common/log.hpp"

#include <map>
#include <set>

namespace mistral::cluster {

namespace {

using namespace mistral::actors;

constexpr auto dial_timeout = std::chrono::seconds(5);

struct peer {
  member info;
  caf::actor directory, engine, executor, notifier;
};

struct directory_state {
  static inline const char* name = "mistral.cluster.directory";
  directory_config cfg;
  member_table table;
  std::map<std::string, peer> peers; ///< by name, this node included
  std::set<endpoint> learnt;         ///< addresses heard of in member lists
  std::set<endpoint> in_flight;      ///< dials under way
  std::vector<caf::actor> subscribers;
  std::map<std::string, std::string> last_pick; ///< role → last node chosen (round robin)
};

using self_ptr = caf::stateful_actor<directory_state>*;

peer& me(self_ptr self) {
  return self->state.peers[self->state.cfg.self.name];
}

void tell_up(self_ptr self, const peer& p, const caf::actor& to) {
  self->send(to, cluster_member_up_atom_v, to_json(p.info).dump(), p.engine, p.executor, p.notifier);
}

void tell_all_up(self_ptr self, const peer& p) {
  for (const auto& s : self->state.subscribers)
    tell_up(self, p, s);
}

void remove_peer(self_ptr self, const std::string& name, const char* why) {
  auto it = self->state.peers.find(name);
  if (it == self->state.peers.end() || name == self->state.cfg.self.name)
    return;
  self->state.learnt.erase(it->second.info.address());
  self->state.peers.erase(it);
  self->state.table.remove(name);
  log::warning("cluster", "node '" + name + "' left the cluster (" + why + ")");
  for (const auto& s : self->state.subscribers)
    self->send(s, cluster_member_down_atom_v, name);
}

void add_peer(self_ptr self, peer p) {
  auto& st = self->state;
  const std::string name = p.info.name;
  if (name == st.cfg.self.name) {
    if (p.directory != self)
      log::error("cluster", "another node also calls itself '" + name +
                              "': node names must be unique ([cluster] node_name); ignoring it");
    return;
  }
  auto it = st.peers.find(name);
  if (it != st.peers.end() && it->second.directory != p.directory)
    remove_peer(self, name, "it restarted"); // its in-flight work is lost with the old process
  bool fresh = st.peers.find(name) == st.peers.end();
  self->monitor(p.directory);
  st.table.upsert(p.info);
  st.learnt.erase(p.info.address());
  st.peers[name] = p;
  if (fresh)
    log::info("cluster",
              "node '" + name + "' joined (" + p.info.host + ":" + std::to_string(p.info.port) + ")");
  tell_all_up(self, p);
}

json known_members(self_ptr self) {
  return to_json(self->state.table.all());
}

void learn(self_ptr self, const std::string& members_json) {
  for (const auto& m : members_from_json(json::parse(members_json, nullptr, false)))
    if (m.name != self->state.cfg.self.name && !self->state.peers.count(m.name) && m.port != 0)
      self->state.learnt.insert(m.address());
}

void dial(self_ptr self);

void join(self_ptr self, endpoint ep, caf::actor remote) {
  const auto& mine = me(self);
  self
    ->request(remote, dial_timeout, cluster_join_atom_v, to_json(mine.info).dump(), mine.engine,
              mine.executor, mine.notifier)
    .then(
      [self, ep, remote](std::string& info_json, caf::actor& engine, caf::actor& executor,
                         caf::actor& notifier, std::string& members_json) {
        self->state.in_flight.erase(ep);
        auto info = member_from_json(json::parse(info_json, nullptr, false));
        if (!info.ok())
          return;
        add_peer(self, peer{*info, remote, engine, executor, notifier});
        learn(self, members_json);
        dial(self);
      },
      [self, ep](caf::error& err) {
        self->state.in_flight.erase(ep);
        log::debug("cluster", "join " + ep.text() + " failed: " + self->system().render(err));
      });
}

void dial(self_ptr self) {
  auto& st = self->state;
  auto targets = dial_targets(st.cfg.seeds, st.learnt, st.cfg.self.address(), st.table, st.in_flight);
  auto network = cluster::network();
  if (!network.ok()) // the node loaded the plugin before it spawned this actor
    return;
  auto mm = (*network)->middleman_actor(self->system());
  for (const auto& ep : targets) {
    st.in_flight.insert(ep);
    self->request(mm, dial_timeout, caf::connect_atom_v, ep.host, ep.port)
      .then(
        [self, ep](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
          if (!ptr) {
            self->state.in_flight.erase(ep);
            return;
          }
          join(self, ep, caf::actor_cast<caf::actor>(ptr));
        },
        [self, ep](caf::error& err) {
          self->state.in_flight.erase(ep);
          log::debug("cluster", "cannot reach " + ep.text() + ": " + self->system().render(err));
        });
  }
}

caf::actor role_handle(const peer& p, const std::string& role) {
  if (role == "engine")
    return p.engine;
  if (role == "executor")
    return p.executor;
  if (role == "notifier")
    return p.notifier;
  return {};
}

caf::behavior directory(self_ptr self, directory_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  peer mine;
  mine.info = st.cfg.self;
  mine.directory = caf::actor_cast<caf::actor>(self);
  st.peers[mine.info.name] = mine;
  st.table.upsert(mine.info);
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    std::erase_if(subs, [&](const caf::actor& s) { return s.address() == dm.source; });
    for (const auto& [name, p] : self->state.peers)
      if (p.directory.address() == dm.source) {
        remove_peer(self, std::string(name), "its connection closed");
        return;
      }
  });
  return {
    [self](cluster_register_atom, const std::string& role, caf::actor& a) {
      auto& p = me(self);
      if (role == "engine")
        p.engine = a;
      else if (role == "executor")
        p.executor = a;
      else if (role == "notifier")
        p.notifier = a;
      tell_all_up(self, p);
    },
    [self](cluster_subscribe_atom) {
      auto who = caf::actor_cast<caf::actor>(self->current_sender());
      if (!who)
        return;
      self->monitor(who);
      self->state.subscribers.push_back(who);
      for (const auto& [name, p] : self->state.peers)
        tell_up(self, p, who);
    },
    [self](start_atom) {
      dial(self);
      self->delayed_send(self, self->state.cfg.dial_interval, cluster_tick_atom_v);
    },
    [self](cluster_tick_atom) {
      dial(self);
      self->delayed_send(self, self->state.cfg.dial_interval, cluster_tick_atom_v);
    },
    [self](
      cluster_join_atom, const std::string& info_json, caf::actor& engine, caf::actor& executor,
      caf::actor& notifier) -> caf::result<std::string, caf::actor, caf::actor, caf::actor, std::string> {
      auto remote = caf::actor_cast<caf::actor>(self->current_sender());
      auto info = member_from_json(json::parse(info_json, nullptr, false));
      if (!remote || !info.ok())
        return caf::make_error(caf::sec::invalid_argument, "a join without a sender or a member entry");
      add_peer(self, peer{*info, remote, engine, executor, notifier});
      const auto& mine = me(self);
      return caf::result<std::string, caf::actor, caf::actor, caf::actor, std::string>(
        to_json(mine.info).dump(), mine.engine, mine.executor, mine.notifier, known_members(self).dump());
    },
    [self](lookup_atom, const std::string& role, const std::string& node) -> caf::actor {
      auto& st = self->state;
      if (!node.empty()) {
        auto it = st.peers.find(node);
        return it == st.peers.end() ? caf::actor{} : role_handle(it->second, role);
      }
      auto names = st.table.with_role(role);
      std::string last = st.last_pick[role];
      for (std::size_t i = 0; i < names.size(); ++i) {
        auto pick = next_after(names, last);
        if (!pick)
          break;
        last = *pick;
        if (auto h = role_handle(st.peers[*pick], role)) {
          st.last_pick[role] = *pick;
          return h;
        }
      }
      return {};
    },
    [self](members_atom) -> std::string { return known_members(self).dump(); },
  };
}

} // namespace

caf::actor spawn_directory(caf::actor_system& sys, directory_config cfg) {
  return sys.spawn(directory, std::move(cfg));
}

} // namespace mistral::cluster

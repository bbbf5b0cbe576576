#include "actors/cluster/dispatcher_actor.hpp"

#include "actors/action/std_actions.hpp"
#include "actors/cluster/dispatch_book.hpp"
#include "actors/cluster/membership.hpp"
#include "actors/protocol.hpp"
#include "common/log.hpp"

#include <map>

namespace mistral::cluster {

namespace {

using namespace mistral::actors;

struct job {
  run_action_msg msg;
  caf::actor requester;
};

struct dispatcher_state {
  static inline const char* name = "mistral.cluster.dispatcher";
  member_table executors;                       ///< live executor nodes
  std::map<std::string, caf::actor> handles;    ///< executor node → its executor actor
  std::map<std::string, std::string> last_pick; ///< target → last node chosen
  dispatch_book book;
  std::map<std::string, job> jobs; ///< by action id, pending or in flight
};

using self_ptr = caf::stateful_actor<dispatcher_state>*;

action_job job_of(const run_action_msg& m) {
  return action_job{m.action_id, m.target, m.safe_rerun};
}

void send_job(self_ptr self, const std::string& action_id) {
  auto& st = self->state;
  auto it = st.jobs.find(action_id);
  if (it == st.jobs.end())
    return;
  const auto& m = it->second.msg;
  auto pick = next_after(st.executors.executors_for(m.target), st.last_pick[m.target]);
  if (!pick) {
    st.book.wait(job_of(m));
    return;
  }
  st.last_pick[m.target] = *pick;
  self->send(st.handles[*pick], m);
  // An async action's result comes through the API, not from the executor:
  // nothing to wait for here.
  if (action::is_async_action(m.action)) {
    st.jobs.erase(it);
    return;
  }
  st.book.sent(job_of(m), *pick);
}

void fail_lost(self_ptr self, const action_job& j, const std::string& node) {
  auto it = self->state.jobs.find(j.action_id);
  if (it == self->state.jobs.end())
    return;
  action_result_msg r;
  r.execution_id = it->second.msg.execution_id;
  r.action_id = j.action_id;
  r.kind = action_result_msg::error;
  r.data_json = "null";
  r.error_json = json(lost_action_text(node)).dump();
  log::warning("cluster", "action " + j.action_id + " (" + it->second.msg.action +
                            ") failed: executor node '" + node + "' died");
  self->send(it->second.requester, std::move(r));
  self->state.jobs.erase(it);
}

caf::behavior dispatcher(self_ptr self, caf::actor directory) {
  self->send(directory, cluster_subscribe_atom_v);
  return {
    [self](run_action_msg& m) {
      auto requester = caf::actor_cast<caf::actor>(self->current_sender());
      auto id = m.action_id;
      self->state.book.drop(id); // a resend of the same action replaces the old one
      self->state.jobs[id] = job{std::move(m), std::move(requester)};
      send_job(self, id);
    },
    [self](action_result_msg& r) {
      auto& st = self->state;
      if (!st.book.finished(r.action_id))
        return; // a late or duplicate result: the action was already settled
      auto it = st.jobs.find(r.action_id);
      if (it == st.jobs.end())
        return;
      self->send(it->second.requester, std::move(r));
      st.jobs.erase(it);
    },
    [self](cluster_member_up_atom, const std::string& info_json, caf::actor&, caf::actor& executor,
           caf::actor&) {
      auto info = member_from_json(json::parse(info_json, nullptr, false));
      if (!info.ok() || !info->has_role("executor") || !executor)
        return;
      auto& st = self->state;
      st.executors.upsert(*info);
      st.handles[info->name] = executor;
      for (const auto& j : st.book.take_pending_for(info->executor_target))
        send_job(self, j.action_id);
    },
    [self](cluster_member_down_atom, const std::string& name) {
      auto& st = self->state;
      if (!st.executors.remove(name))
        return;
      st.handles.erase(name);
      auto lost = st.book.node_lost(name);
      for (const auto& j : lost.rerun) {
        log::info("cluster", "action " + j.action_id +
                               " is safe-rerun: sending it again after executor node '" + name + "' died");
        send_job(self, j.action_id);
      }
      for (const auto& j : lost.fail)
        fail_lost(self, j, name);
    },
  };
}

} // namespace

caf::actor spawn_dispatcher(caf::actor_system& sys, caf::actor directory) {
  return sys.spawn(dispatcher, std::move(directory));
}

} // namespace mistral::cluster

#include "actors/workflow/execution_actor.hpp"

#include "actors/action/adhoc.hpp"
#include "actors/action/catalog.hpp"
#include "actors/action/std_actions.hpp"
#include "actors/engine/records.hpp"
#include "actors/protocol.hpp"
#include "common/log.hpp"
#include "common/uuid.hpp"
#include "dsl/inline_params.hpp"
#include "persistence/definition_stores.hpp"
#include "persistence/execution_tables.hpp"

#include <chrono>

namespace mistral::actors {

namespace {

using namespace mistral::engine;

using action::adhoc_from_raw;

/// The machine's view of the world from inside an execution actor.
class actor_env final : public machine_env {
public:
  explicit actor_env(std::shared_ptr<persistence::database> db) : db_(std::move(db)) {}

  timestamp now() const override {
    timestamp t = clock_.now();
    // Strictly increasing: created_at orders tasks created in one decision.
    if (t <= last_)
      t = last_ + 1;
    last_ = t;
    return t;
  }
  std::string new_id() override { return make_uuid(); }

  std::optional<dsl::action_spec> find_adhoc_action(const std::string& name,
                                                    const std::string& ns) const override {
    if (name.rfind("std.", 0) == 0 && action::is_std_action(name))
      return std::nullopt;
    persistence::action_definition_store store(db_);
    for (const std::string& n : {ns, std::string()}) {
      auto row = store.get_by_name(name, n);
      if (row.ok() && row->has_value())
        return adhoc_from_raw(name, (**row)["spec"]);
      if (n.empty())
        break;
    }
    return std::nullopt;
  }

  bool is_std_action(const std::string& name) const override { return action::is_std_action(name); }

  bool workflow_exists(const std::string& name, const std::string& ns, const std::string& wb) const override {
    persistence::workflow_definition_store store(db_);
    std::vector<std::string> names;
    if (!wb.empty())
      names.push_back(wb + "." + name);
    names.push_back(name);
    for (const auto& n : names)
      for (const std::string& space : {ns, std::string()}) {
        auto row = store.get_by_name(n, space);
        if (row.ok() && row->has_value())
          return true;
        if (space.empty())
          break;
      }
    return false;
  }

  std::optional<std::string> check_action_input(const std::string& name, const json& input) const override {
    const action::std_action* a = action::find_std_action(name);
    return a ? action::check_input(*a, input) : std::nullopt;
  }

private:
  std::shared_ptr<persistence::database> db_;
  system_clock clock_;
  mutable timestamp last_ = 0;
};

struct execution_state {
  static inline const char* name = "mistral.execution";
  engine::execution ex;
  execution_deps deps;
  std::unique_ptr<actor_env> env;
  caf::response_promise starter; ///< pending while the first decision's sub-workflows start
  bool starting = false;
  int pending_starts = 0;
};

using self_ptr = caf::stateful_actor<execution_state>*;

action::action_result to_result(const action_result_msg& m) {
  action::action_result r;
  r.outcome = m.kind == 0   ? action::action_result::kind::success
              : m.kind == 1 ? action::action_result::kind::error
                            : action::action_result::kind::cancelled;
  r.data = json::parse(m.data_json, nullptr, false);
  if (r.data.is_discarded())
    r.data = nullptr;
  r.error = json::parse(m.error_json, nullptr, false);
  if (r.error.is_discarded())
    r.error = nullptr;
  return r;
}

std::string row_json(const engine::execution& ex) {
  return to_record(ex.wf, ex.spec ? ex.spec->raw : json(nullptr)).dump();
}

void carry_out(self_ptr self, decision& d);

/// Answers the starter with the row once the sub-workflows of the first
/// decision have started, so a new execution is seen with its whole start.
void deliver_start(self_ptr self) {
  auto& st = self->state;
  if (st.starter.pending())
    st.starter.deliver(row_json(st.ex));
}

/// Applies one event: decide, commit, then act. A failed commit stops the
/// actor without acting, so nothing happens that the store does not know.
bool apply_event(self_ptr self, const event& ev) {
  auto& st = self->state;
  decision d = decide(st.ex, ev, *st.env);
  auto writes = writes_for(st.ex, d);
  if (!writes.empty()) {
    auto committed = st.deps.db->write_batch(writes);
    if (!committed.ok()) {
      log::error("engine", "commit failed for execution " + st.ex.wf.id + ": " + committed.err().message);
      self->quit(caf::exit_reason::unhandled_exception);
      return false;
    }
  }
  carry_out(self, d);
  return true;
}

void schedule_timer(self_ptr self, const cmd_schedule_timer& t) {
  auto& st = self->state;
  auto delay = std::chrono::microseconds(static_cast<std::int64_t>(t.delay_seconds * 1e6));
  timestamp now = system_clock{}.now();
  persistence::write_op row{persistence::write_op::kind::upsert,
                            &persistence::delayed_calls_table(),
                            {{"id", t.task_id + ":" + std::to_string(static_cast<int>(t.kind))},
                             {"workflow_execution_id", st.ex.wf.id},
                             {"task_execution_id", t.task_id},
                             {"kind", std::to_string(static_cast<int>(t.kind))},
                             {"fire_at", now + delay.count()},
                             {"created_at", now}},
                            {}};
  (void)st.deps.db->write_batch({row});
  self->delayed_send(self, delay, timer_msg{st.ex.wf.id, t.task_id, static_cast<std::int32_t>(t.kind)});
}

void carry_out(self_ptr self, decision& d) {
  auto& st = self->state;
  for (auto& c : d.commands) {
    if (auto* r = std::get_if<cmd_run_action>(&c)) {
      run_action_msg m;
      m.execution_id = st.ex.wf.id;
      m.action_id = r->action_id;
      m.task_id = r->task_id;
      m.action = r->action;
      m.input_json = r->input.dump();
      m.target = r->target.is_string() ? r->target.get<std::string>() : "";
      m.safe_rerun = r->safe_rerun;
      m.timeout = r->timeout;
      m.workflow_name = st.ex.wf.workflow_name;
      self->send(st.deps.executor, std::move(m));
    } else if (auto* s = std::get_if<cmd_start_subworkflow>(&c)) {
      json params = s->params;
      if (st.starting)
        ++st.pending_starts;
      bool counted = st.starting;
      auto done = [self, counted] {
        if (counted && --self->state.pending_starts == 0)
          deliver_start(self);
      };
      self
        ->request(st.deps.engine, std::chrono::seconds(60), start_atom_v, s->execution_id, st.ex.wf.id,
                  s->task_id, s->workflow_name, s->workflow_namespace, s->input.dump(), params.dump(),
                  st.ex.wf.runtime_context.value("wb_name", std::string()))
        .then([done](std::string&) { done(); }, [done](caf::error&) { done(); });
    } else if (auto* t = std::get_if<cmd_schedule_timer>(&c)) {
      schedule_timer(self, *t);
    } else if (auto* ctl = std::get_if<cmd_control_subworkflows>(&c)) {
      for (const auto& id : ctl->execution_ids) {
        control_msg m;
        m.execution_id = id;
        if (std::holds_alternative<ev_pause>(ctl->what)) {
          m.what = control_msg::pause;
        } else if (std::holds_alternative<ev_resume>(ctl->what)) {
          m.what = control_msg::resume;
        } else if (auto* stop = std::get_if<ev_stop>(&ctl->what)) {
          m.what = control_msg::stop;
          m.target_state = to_string(stop->target);
          m.has_message = stop->msg.has_value();
          m.message = stop->msg.value_or("");
        }
        // A request, so the row the engine answers with is expected here.
        self->request(st.deps.engine, std::chrono::seconds(60), std::move(m))
          .then([](std::string&) {},
                [id](caf::error& e) {
                  log::warning("engine", "control of sub-workflow " + id + " failed");
                  (void)e;
                });
      }
    } else if (auto* done = std::get_if<cmd_completed>(&c)) {
      // Tell the router; it forwards to the parent task when there is one.
      action_result_msg m;
      m.execution_id = st.ex.wf.task_execution_id ? "parent" : "";
      m.action_id = st.ex.wf.id;
      m.kind = done->final_state == state::success ? 0 : done->final_state == state::error ? 1 : 2;
      m.data_json = done->output.dump();
      m.error_json = done->state_info ? json(*done->state_info).dump() : json(nullptr).dump();
      self->send(st.deps.engine, finished_atom_v, std::move(m));
    } else if (auto* changed = std::get_if<cmd_notify_parent>(&c)) {
      action_result_msg m;
      m.execution_id = "parent";
      m.action_id = st.ex.wf.id;
      m.kind = changed->rerun                 ? action_result_msg::rerun
               : changed->st == state::paused ? action_result_msg::paused
                                              : action_result_msg::resumed;
      self->send(st.deps.engine, finished_atom_v, std::move(m));
    }
  }
}

event to_event(const control_msg& m) {
  json env = m.env_json.empty() ? json(nullptr) : json::parse(m.env_json, nullptr, false);
  if (env.is_discarded())
    env = nullptr;
  std::optional<std::string> msg = m.has_message ? std::optional<std::string>(m.message) : std::nullopt;
  switch (m.what) {
    case control_msg::pause: return ev_pause{msg};
    case control_msg::resume: return ev_resume{env};
    case control_msg::rerun: return ev_rerun{m.task_id, m.reset, env};
    default: return ev_stop{state_from_string(m.target_state).value_or(state::cancelled), msg};
  }
}

caf::behavior execution_actor(self_ptr self, execution_deps deps, engine::execution ex, bool start,
                              caf::response_promise starter) {
  self->state.env = std::make_unique<actor_env>(deps.db);
  self->state.deps = std::move(deps);
  self->state.ex = std::move(ex);
  if (start) {
    self->state.starter = std::move(starter);
    self->state.starting = true;
    bool ok = apply_event(self, ev_start{});
    self->state.starting = false;
    if (!ok)
      self->state.starter.deliver(
        caf::make_error(caf::sec::runtime_error, "cannot commit the new execution"));
    else if (self->state.pending_starts == 0)
      deliver_start(self);
  }
  return {
    [self](action_result_msg& m) {
      if (m.kind == action_result_msg::rerun)
        apply_event(self, ev_action_update{m.action_id, state::running, true});
      else if (m.kind == action_result_msg::paused || m.kind == action_result_msg::resumed)
        apply_event(self,
                    ev_action_update{m.action_id,
                                     m.kind == action_result_msg::paused ? state::paused : state::running});
      else
        apply_event(self, ev_action_done{m.action_id, to_result(m)});
    },
    [self](timer_msg& m) {
      (void)self->state.deps.db->remove(
        persistence::delayed_calls_table(),
        {persistence::filter{"id", persistence::filter_op::eq, {m.task_id + ":" + std::to_string(m.kind)}}});
      apply_event(self, ev_timer{m.task_id, static_cast<timer_kind>(m.kind)});
    },
    [self](control_msg& m) -> std::string {
      if (m.what == control_msg::forget) {
        self->quit();
        return "{}";
      }
      apply_event(self, to_event(m));
      return row_json(self->state.ex);
    },
  };
}

} // namespace

caf::actor spawn_execution(caf::actor_system& sys, execution_deps deps, engine::execution ex, bool start,
                           caf::response_promise starter) {
  return sys.spawn(execution_actor, std::move(deps), std::move(ex), start, std::move(starter));
}

} // namespace mistral::actors

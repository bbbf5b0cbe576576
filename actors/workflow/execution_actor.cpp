#include "actors/workflow/execution_actor.hpp"

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

/// An ad-hoc action spec from its stored spec dict.
std::optional<dsl::action_spec> adhoc_from_raw(const std::string& name, const json& raw) {
  if (!raw.is_object() || !raw.contains("base") || !raw["base"].is_string())
    return std::nullopt;
  auto call = dsl::parse_command(raw["base"].get<std::string>());
  if (!call.ok())
    return std::nullopt;
  dsl::action_spec spec;
  spec.name = name;
  spec.base = call->command;
  spec.base_input = call->params;
  if (raw.contains("base-input") && raw["base-input"].is_object())
    for (auto it = raw["base-input"].begin(); it != raw["base-input"].end(); ++it)
      spec.base_input[it.key()] = it.value();
  if (raw.contains("input") && raw["input"].is_array()) {
    for (const auto& p : raw["input"]) {
      if (p.is_string()) {
        spec.input.push_back({p.get<std::string>(), std::nullopt});
      } else if (p.is_object() && !p.empty()) {
        spec.input.push_back({p.begin().key(), p.begin().value()});
      }
    }
  }
  spec.output = raw.value("output", json(nullptr));
  spec.raw = raw;
  return spec;
}

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

/// Applies one event: decide, commit, then act. A failed commit stops the
/// actor without acting, so nothing happens that the store does not know.
/// `also` commits in the same transaction (e.g. the fired timer's removal).
bool apply_event(self_ptr self, const event& ev, std::vector<persistence::write_op> also = {}) {
  auto& st = self->state;
  decision d = decide(st.ex, ev, *st.env);
  auto writes = writes_for(st.ex, d, system_clock{}.now());
  writes.insert(writes.end(), std::make_move_iterator(also.begin()), std::make_move_iterator(also.end()));
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

// The timer's row was committed with the decision (writes_for).
void schedule_timer(self_ptr self, const cmd_schedule_timer& t) {
  auto delay = std::chrono::microseconds(static_cast<std::int64_t>(t.delay_seconds * 1e6));
  self->delayed_send(self, delay,
                     timer_msg{self->state.ex.wf.id, t.task_id, static_cast<std::int32_t>(t.kind)});
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
      self->send(st.deps.engine, start_atom_v, s->execution_id, st.ex.wf.id, s->task_id, s->workflow_name,
                 s->workflow_namespace, s->input.dump(), params.dump(),
                 st.ex.wf.runtime_context.value("wb_name", std::string()));
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
        self->send(st.deps.engine, std::move(m));
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
    if (apply_event(self, ev_start{}))
      starter.deliver(row_json(self->state.ex));
    else
      starter.deliver(caf::make_error(caf::sec::runtime_error, "cannot commit the new execution"));
  }
  return {
    [self](action_result_msg& m) {
      apply_event(self, ev_action_done{m.action_id, to_result(m)});
    },
    [self](timer_msg& m) {
      persistence::write_op fired{
        persistence::write_op::kind::remove,
        &persistence::delayed_calls_table(),
        {},
        {persistence::filter{"id", persistence::filter_op::eq, {timer_id(m.task_id, m.kind)}}}};
      apply_event(self, ev_timer{m.task_id, static_cast<timer_kind>(m.kind)}, {std::move(fired)});
    },
    [self](control_msg& m) -> std::string {
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

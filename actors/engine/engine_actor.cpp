#include "actors/engine/engine_actor.hpp"

#include "actors/engine/records.hpp"
#include "actors/engine/recovery.hpp"
#include "actors/notifier/delivery.hpp"
#include "actors/protocol.hpp"
#include "actors/workflow/execution_actor.hpp"
#include "actors/workflow/field_size.hpp"
#include "common/log.hpp"
#include "dsl/parser.hpp"
#include "persistence/definition_stores.hpp"
#include "persistence/execution_tables.hpp"

#include <algorithm>
#include <unordered_map>

namespace mistral::actors {

namespace {

using persistence::filter;
using persistence::filter_op;

struct engine_state {
  static inline const char* name = "mistral.engine";
  std::shared_ptr<persistence::database> db;
  caf::actor executor;
  std::int64_t field_size_limit_kb = 1024;
  engine_notifications notifications;
  std::int64_t instant_actions_per_commit = 1000;
  std::unordered_map<std::string, caf::actor> executions;
  std::unordered_map<std::string, std::string> parent_of; ///< child execution id → parent execution id
};

using self_ptr = caf::stateful_actor<engine_state>*;

execution_deps deps_of(self_ptr self) {
  return execution_deps{self->state.db,
                        caf::actor_cast<caf::actor>(self),
                        self->state.executor,
                        self->state.field_size_limit_kb,
                        self->state.notifications.notifier,
                        self->state.instant_actions_per_commit};
}

void track(self_ptr self, const std::string& id, caf::actor a) {
  self->monitor(a);
  self->state.executions[id] = std::move(a);
}

/// The actor owning execution `id`, loading it from the store if needed.
caf::actor owner_of(self_ptr self, const std::string& id) {
  auto it = self->state.executions.find(id);
  if (it != self->state.executions.end())
    return it->second;
  auto ex = engine::load_execution(*self->state.db, id);
  if (!ex.ok())
    return nullptr;
  if (ex->wf.task_execution_id) {
    auto task = self->state.db->find_one(persistence::task_executions_table(),
                                         {filter{"id", filter_op::eq, {*ex->wf.task_execution_id}}});
    if (task.ok() && task->has_value())
      self->state.parent_of[id] = (**task).value("workflow_execution_id", "");
  }
  auto a = spawn_execution(self->system(), deps_of(self), std::move(*ex), false, caf::response_promise{});
  track(self, id, a);
  return a;
}

engine::execution new_execution(const start_execution& req) {
  engine::execution ex;
  auto& wf = ex.wf;
  wf.id = req.execution_id;
  wf.workflow_id = req.workflow_id;
  wf.workflow_name = req.workflow_name;
  wf.workflow_namespace = req.workflow_namespace;
  wf.description = req.description;
  wf.tags = json::parse(req.tags_json.empty() ? "[]" : req.tags_json, nullptr, false);
  if (!wf.tags.is_array())
    wf.tags = json::array();
  wf.input = json::parse(req.input_json.empty() ? "{}" : req.input_json, nullptr, false);
  wf.params = json::parse(req.params_json.empty() ? "{}" : req.params_json, nullptr, false);
  if (!wf.input.is_object())
    wf.input = json::object();
  if (!wf.params.is_object())
    wf.params = json::object();
  wf.runtime_context = json{{"index", wf.params.value("index", 0)}};
  if (!req.wb_name.empty())
    wf.runtime_context["wb_name"] = req.wb_name;
  if (!req.parent_task_id.empty())
    wf.task_execution_id = req.parent_task_id;
  if (!req.root_execution_id.empty())
    wf.root_execution_id = req.root_execution_id;
  wf.created_at = system_clock{}.now();
  auto spec_raw = json::parse(req.spec_json, nullptr, false);
  auto spec = dsl::shared_workflow_from_raw(spec_raw);
  if (spec.ok())
    ex.spec = *spec;
  return ex;
}

/// Finds a workflow definition as Mistral resolves it from a task:
/// `<wb>.<name>` first, then the name; the namespace, then the default one.
std::optional<persistence::record> find_workflow(self_ptr self, const std::string& name,
                                                 const std::string& ns, const std::string& wb) {
  persistence::workflow_definition_store store(self->state.db);
  std::vector<std::string> names;
  if (!wb.empty())
    names.push_back(wb + "." + name);
  names.push_back(name);
  for (const auto& n : names)
    for (const std::string& space : {ns, std::string()}) {
      auto row = store.get_by_name(n, space);
      if (row.ok() && row->has_value())
        return **row;
      if (space.empty())
        break;
    }
  return std::nullopt;
}

void fail_link(self_ptr self, const std::string& parent_id, const std::string& link_id,
               const std::string& msg) {
  action_result_msg m;
  m.execution_id = parent_id;
  m.action_id = link_id;
  m.kind = 1;
  m.data_json = "null";
  m.error_json = json(msg).dump();
  if (auto owner = owner_of(self, parent_id))
    self->send(owner, std::move(m));
}

/// Starts a sub-workflow; `started` is delivered once its first decision is
/// committed (Mistral starts sub-workflows in the parent's transaction).
/// False when it could not start: the parent task was failed instead.
bool start_sub(self_ptr self, const std::string& sub_id, const std::string& parent_id,
               const std::string& task_id, const std::string& wf_name, const std::string& ns,
               const std::string& input_json, const std::string& params_json, const std::string& wb,
               caf::response_promise started) {
  auto def = find_workflow(self, wf_name, ns, wb);
  if (!def) {
    fail_link(self, parent_id, sub_id,
              "Workflow not found [workflow_identifier=" + wf_name + ", namespace=" + ns + "]");
    return false;
  }
  auto spec = dsl::shared_workflow_from_raw((*def)["spec"]);
  if (!spec.ok()) {
    fail_link(self, parent_id, sub_id, spec.err().message);
    return false;
  }
  // Task input keys the sub-workflow does not declare become its params.
  json input = json::parse(input_json, nullptr, false);
  json params = json::parse(params_json, nullptr, false);
  json wf_input = json::object();
  for (auto it = input.begin(); input.is_object() && it != input.end(); ++it) {
    bool declared = false;
    for (const auto& p : (*spec)->input)
      declared = declared || p.name == it.key();
    if (declared)
      wf_input[it.key()] = it.value();
    else
      params[it.key()] = it.value();
  }
  if (auto bad = engine::check_workflow_input(**spec, wf_input)) {
    fail_link(self, parent_id, sub_id, *bad);
    return false;
  }
  // Creating the sub-workflow execution sets its input and params (Mistral's
  // length validator).
  json full_input = engine::complete_workflow_input(**spec, wf_input);
  for (const auto& [field, value] :
       {std::pair<const char*, const json*>{"input", &full_input}, {"params", &params}})
    if (auto big = engine::field_size_error(field, *value, self->state.field_size_limit_kb)) {
      fail_link(self, parent_id, sub_id, *big);
      return false;
    }
  start_execution req;
  req.execution_id = sub_id;
  req.workflow_id = (*def).value("id", "");
  req.workflow_name = (*def).value("name", "");
  req.workflow_namespace = (*def).value("namespace", "");
  req.spec_json = (*def)["spec"].dump();
  req.input_json = full_input.dump();
  req.params_json = params.dump();
  req.tags_json = (*def)["tags"].dump();
  req.description = "sub-workflow execution";
  req.parent_execution_id = parent_id;
  req.parent_task_id = task_id;
  req.root_execution_id = params.value("root_execution_id", parent_id);
  req.wb_name = (*def)["workbook_name"].is_string() ? (*def)["workbook_name"].get<std::string>() : "";
  self->state.parent_of[sub_id] = parent_id;
  auto a = spawn_execution(self->system(), deps_of(self), new_execution(req), true, std::move(started));
  track(self, sub_id, a);
  return true;
}

/// The parent execution of sub-workflow `child`, read from the store ("" for a root).
std::string parent_from_store(self_ptr self, const std::string& child) {
  auto wf = self->state.db->find_one(persistence::workflow_executions_table(),
                                     {filter{"id", filter_op::eq, {child}}});
  if (!wf.ok() || !wf->has_value() || !(**wf)["task_execution_id"].is_string())
    return {};
  auto task = self->state.db->find_one(persistence::task_executions_table(),
                                       {filter{"id", filter_op::eq, {(**wf)["task_execution_id"]}}});
  if (!task.ok() || !task->has_value())
    return {};
  return (**task).value("workflow_execution_id", "");
}

std::string execution_of_action(self_ptr self, const std::string& action_id) {
  auto row = self->state.db->find_one(persistence::action_executions_table(),
                                      {filter{"id", filter_op::eq, {action_id}}});
  if (!row.ok() || !row->has_value())
    return {};
  return (**row).value("workflow_execution_id", "");
}

// Turns recovery steps into the messages the engine handles anyway.
struct recovery_sender {
  self_ptr self;

  void operator()(const engine::rerun_action& r) {
    run_action_msg m;
    m.execution_id = r.execution_id;
    m.action_id = r.action_id;
    m.task_id = r.task_id;
    m.action = r.dispatch.value("action", "");
    m.input_json = r.dispatch.value("input", json::object()).dump();
    m.target = r.dispatch["target"].is_string() ? r.dispatch["target"].get<std::string>() : "";
    m.safe_rerun = true;
    m.timeout = r.dispatch.value("timeout", std::int64_t{0});
    m.workflow_name = r.dispatch.value("workflow_name", "");
    self->send(self->state.executor, std::move(m)); // the result comes back to the router
  }
  void operator()(const engine::complete_action& c) {
    self->send(self, action_result_msg{c.execution_id, c.action_id, c.kind, c.data.dump(), c.error.dump()});
  }
  void operator()(const engine::arm_timer& t) {
    self->delayed_send(self, std::chrono::microseconds(t.delay_us),
                       timer_msg{t.execution_id, t.task_id, t.kind});
  }
  void operator()(const engine::restart_subworkflow& s) {
    const json& st = s.start;
    self->send(self, start_atom_v, s.link_id, s.execution_id, s.task_id, st.value("workflow_name", ""),
               st.value("namespace", ""), st.value("input", json::object()).dump(),
               st.value("params", json::object()).dump(), st.value("wb_name", ""));
  }

  void operator()(const engine::control_execution& c) {
    control_msg m;
    m.execution_id = c.execution_id;
    if (c.what == engine::control_execution::kind::pause) {
      m.what = control_msg::pause;
    } else {
      m.what = control_msg::stop;
      m.target_state = "CANCELLED";
    }
    m.has_message = c.message.has_value();
    m.message = c.message.value_or("");
    caf::anon_send(self, std::move(m)); // nobody waits for the reply
  }
};

/// After a restart: makes every unfinished execution in the store go on.
void recover_unfinished(self_ptr self) {
  auto in = engine::load_recovery_input(*self->state.db);
  if (!in.ok()) {
    log::error("engine", "recovery: cannot read the store: " + in.err().message);
    return;
  }
  auto steps = engine::plan_recovery(*in, system_clock{}.now());
  if (!in->executions.empty())
    log::info("engine", "recovery: " + std::to_string(in->executions.size()) + " unfinished execution(s), " +
                          std::to_string(steps.size()) + " step(s)");
  for (const auto& step : steps)
    std::visit(recovery_sender{self}, step);
}

caf::behavior engine(self_ptr self, std::shared_ptr<persistence::database> db, caf::actor executor,
                     std::int64_t field_size_limit_kb, engine_notifications notifications,
                     std::int64_t instant_actions_per_commit) {
  self->state.db = std::move(db);
  self->state.executor = std::move(executor);
  self->state.field_size_limit_kb = field_size_limit_kb;
  self->state.notifications = std::move(notifications);
  self->state.instant_actions_per_commit = std::max<std::int64_t>(1, instant_actions_per_commit);
  recover_unfinished(self);
  self->set_down_handler([self](const caf::down_msg& dm) {
    for (auto it = self->state.executions.begin(); it != self->state.executions.end(); ++it)
      if (it->second.address() == dm.source) {
        self->state.executions.erase(it);
        break;
      }
  });
  return {
    [self](start_atom, start_execution& req) -> caf::result<std::string> {
      auto rp = self->make_response_promise<std::string>();
      auto ex = new_execution(req);
      // Root executions only: a sub-workflow inherits its parent's params.notify.
      if (req.parent_execution_id.empty())
        notifier::add_configured_publishers(ex.wf.params, self->state.notifications.configured_publishers);
      if (!ex.spec)
        return caf::make_error(caf::sec::invalid_argument, "the workflow spec cannot be read");
      auto a = spawn_execution(self->system(), deps_of(self), std::move(ex), true, rp);
      track(self, req.execution_id, a);
      return rp;
    },
    [self](start_atom, std::string& sub_id, std::string& parent_id, std::string& task_id,
           std::string& wf_name, std::string& ns, std::string& input_json, std::string& params_json,
           std::string& wb) -> caf::result<std::string> {
      auto rp = self->make_response_promise<std::string>();
      if (!start_sub(self, sub_id, parent_id, task_id, wf_name, ns, input_json, params_json, wb, rp))
        rp.deliver(std::string("{}")); // not started: the parent task was failed instead
      return rp;
    },
    [self](action_result_msg& m) {
      if (m.execution_id.empty())
        m.execution_id = execution_of_action(self, m.action_id);
      if (auto owner = owner_of(self, m.execution_id))
        self->send(owner, std::move(m));
      else
        log::warning("engine", "no execution for action " + m.action_id);
    },
    [self](timer_msg& m) {
      if (auto owner = owner_of(self, m.execution_id))
        self->send(owner, std::move(m));
    },
    [self](cluster_waiting_atom, std::string& execution_id, std::string& task_id, std::string& info) {
      // A recovered action waits for an executor: its execution writes why.
      if (auto owner = owner_of(self, execution_id))
        self->send(owner, cluster_waiting_atom_v, std::move(execution_id), std::move(task_id),
                   std::move(info));
    },
    [self](finished_atom, action_result_msg& m) {
      const std::string child = m.action_id;
      auto it = self->state.parent_of.find(child);
      if (it != self->state.parent_of.end()) {
        m.execution_id = it->second;
        if (m.kind != action_result_msg::paused && m.kind != action_result_msg::resumed &&
            m.kind != action_result_msg::rerun)
          self->state.parent_of.erase(it);
      } else if (m.kind == action_result_msg::rerun) {
        // A sub-workflow rerun after it finished: its parent comes from the store.
        m.execution_id = parent_from_store(self, child);
        if (m.execution_id.empty())
          return;
        self->state.parent_of[child] = m.execution_id;
      } else {
        return;
      }
      if (auto owner = owner_of(self, m.execution_id))
        self->send(owner, std::move(m));
    },
    [self](control_msg& m) -> caf::result<std::string> {
      if (m.what == control_msg::forget) {
        auto it = self->state.executions.find(m.execution_id);
        self->state.parent_of.erase(m.execution_id);
        if (it == self->state.executions.end())
          return std::string("{}");
        auto live = it->second;
        self->state.executions.erase(it);
        auto rp = self->make_response_promise<std::string>();
        self->request(live, std::chrono::seconds(30), std::move(m))
          .then([rp](std::string& row) mutable { rp.deliver(std::move(row)); },
                [rp](caf::error&) mutable { rp.deliver(std::string("{}")); });
        return rp;
      }
      auto owner = owner_of(self, m.execution_id);
      if (!owner)
        return caf::make_error(caf::sec::invalid_argument,
                               "Workflow execution not found [id=" + m.execution_id + "]");
      auto rp = self->make_response_promise<std::string>();
      self->request(owner, std::chrono::seconds(30), std::move(m))
        .then([rp](std::string& row) mutable { rp.deliver(std::move(row)); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_engine(caf::actor_system& sys, std::shared_ptr<persistence::database> db,
                        caf::actor executor, std::int64_t field_size_limit_kb,
                        engine_notifications notifications, std::int64_t instant_actions_per_commit) {
  return sys.spawn(engine, std::move(db), std::move(executor), field_size_limit_kb, std::move(notifications),
                   instant_actions_per_commit);
}

} // namespace mistral::actors

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
#include <chrono>
#include <mutex>
#include <unordered_map>

namespace mistral::actors {

namespace {

using persistence::filter;
using persistence::filter_op;

using reply_promise = caf::typed_response_promise<std::string>;

/// A message for an execution whose owner is unknown or unreachable for now.
struct waiting_message {
  std::string execution_id;
  caf::message msg;
  reply_promise reply; ///< pending for a request
  int attempt = 0;
};

struct engine_state {
  static inline const char* name = "mistral.engine";
  std::shared_ptr<persistence::database> db;
  caf::actor executor;
  engine_options opts;
  engine::lease_owner me; ///< epoch 0 while not registered (the store is out of reach)
  engine::liveness_view view;
  bool restart_scan = true;     ///< the next scan is this incarnation's first
  int failed_registrations = 0; ///< in a row, while the store is out of reach
  caf::actor heartbeat;
  std::unordered_map<std::string, caf::actor> executions;
  std::unordered_map<std::string, std::string> parent_of; ///< child execution id → parent execution id
  std::vector<std::string> to_recover;  ///< claimed, but the store could not be read: next scan
  std::vector<waiting_message> waiting; ///< messages whose owner could not be reached: next scan
  /// Finished executions whose actors asked to retire, with the messages
  /// held for them until the actor answers (retired or revived).
  std::unordered_map<std::string, std::vector<waiting_message>> retiring;
};

using self_ptr = caf::stateful_actor<engine_state>*;

/// This engine's steady clock, in µs: liveness is measured on it.
timestamp steady_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

execution_deps deps_of(self_ptr self) {
  const auto& opts = self->state.opts;
  return execution_deps{self->state.db,
                        caf::actor_cast<caf::actor>(self),
                        self->state.executor,
                        opts.field_size_limit_kb,
                        opts.notifications.notifier,
                        std::max<std::int64_t>(1, opts.instant_actions_per_commit),
                        self->state.me,
                        std::max<std::int64_t>(1, opts.with_items_per_commit)};
}

void track(self_ptr self, const std::string& id, caf::actor a) {
  self->monitor(a);
  self->state.executions[id] = std::move(a);
}

/// The actor of execution `id`, which this engine owns, loading it from the
/// store if needed.
caf::actor load_local(self_ptr self, const std::string& id) {
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

void route_to(self_ptr self, const std::string& id, caf::message msg, reply_promise reply = reply_promise(),
              int attempt = 0);

/// The spec of a start request's `spec_json`. Executions of one definition
/// share the text: parsing it for each start (to find the parsed spec by its
/// dump again) was a few percent of a busy engine's CPU.
std::shared_ptr<const dsl::workflow_spec> spec_of_text(const std::string& text) {
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<const dsl::workflow_spec>> by_text;
  constexpr std::size_t max_specs = 256;
  {
    std::lock_guard lock(mutex);
    if (auto it = by_text.find(text); it != by_text.end())
      return it->second;
  }
  auto spec = dsl::shared_workflow_from_raw(json::parse(text, nullptr, false));
  if (!spec.ok())
    return nullptr;
  std::lock_guard lock(mutex);
  if (by_text.size() >= max_specs)
    by_text.clear();
  by_text.emplace(text, *spec);
  return *spec;
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
  ex.spec = spec_of_text(req.spec_json);
  // Room for each task once: growing the vector moved every task made so
  // far (and its large reallocations made glibc consolidate its free lists).
  if (ex.spec)
    ex.tasks.reserve(ex.spec->tasks.size());
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
  route_to(self, parent_id, caf::make_message(std::move(m)));
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
    if (auto big = engine::field_size_error(field, *value, self->state.opts.field_size_limit_kb)) {
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

/// Makes the executions `ids`, just claimed by this engine, go on as after
/// a restart. Ids whose store could not be read are kept for the next tick.
void continue_claimed(self_ptr self, std::vector<std::string> ids) {
  auto& st = self->state;
  auto in = engine::load_recovery_input(*st.db, ids);
  if (!in.ok()) {
    log::error("engine", "takeover: cannot read the store: " + in.err().message);
    st.to_recover.insert(st.to_recover.end(), ids.begin(), ids.end());
    return;
  }
  auto steps = engine::plan_recovery(*in, system_clock{}.now());
  if (!in->executions.empty())
    log::info("engine", "recovery: " + std::to_string(in->executions.size()) + " unfinished execution(s), " +
                          std::to_string(steps.size()) + " step(s), taken over by " + st.me.node +
                          " (epoch " + std::to_string(st.me.epoch) + ")");
  for (const auto& step : steps)
    std::visit(recovery_sender{self}, step);
}

/// Stops every execution actor: this engine may not own them any more.
void detach(self_ptr self, const std::string& why) {
  auto& st = self->state;
  log::error("engine", st.me.node + " (epoch " + std::to_string(st.me.epoch) + ") stops its " +
                         std::to_string(st.executions.size()) + " execution(s): " + why);
  for (auto& [id, a] : st.executions)
    self->send_exit(a, caf::exit_reason::kill);
  st.executions.clear();
  st.parent_of.clear();
  st.retiring.clear();
  st.me.epoch = 0;
}

/// Registers this engine as a new epoch of its node; the heartbeat follows.
bool attach(self_ptr self) {
  auto& st = self->state;
  auto epoch = engine::register_node(*st.db, st.me.node, system_clock{}.now());
  if (!epoch.ok()) {
    // Retried every takeover interval: say it now and then, not every time.
    if (st.failed_registrations++ % 20 == 0)
      log::error("engine", "cannot register engine node " + st.me.node + ": " + epoch.err().message);
    return false;
  }
  st.failed_registrations = 0;
  st.me.epoch = *epoch;
  st.restart_scan = true;
  log::info("engine", "engine node " + st.me.node + " runs as epoch " + std::to_string(st.me.epoch));
  if (st.heartbeat)
    self->send(st.heartbeat, lease_atom_v, st.me.epoch);
  return true;
}

/// Reads the engine rows into the liveness view.
bool refresh_view(self_ptr self) {
  auto nodes = engine::read_nodes(*self->state.db);
  if (!nodes.ok()) {
    log::warning("engine", "cannot read the engine nodes: " + nodes.err().message);
    return false;
  }
  self->state.view.observe(*nodes, steady_now());
  return true;
}

/// One takeover scan: observes the engines' heartbeats, claims the
/// executions of dead ones and continues them; then retries the messages
/// that waited for an owner.
void scan(self_ptr self) {
  auto& st = self->state;
  if (st.me.epoch == 0 && !attach(self))
    return;
  if (!refresh_view(self))
    return;
  auto candidates = engine::read_takeover_candidates(*st.db, st.me, st.view, steady_now(), st.restart_scan);
  if (!candidates.ok()) {
    log::warning("engine", "takeover scan: " + candidates.err().message);
    return;
  }
  // A node that registered since the first read owns leases that looked
  // like orphans: look at the nodes again before judging them.
  if (!refresh_view(self))
    return;
  auto now = steady_now();
  std::vector<std::string> claimed = std::move(st.to_recover);
  st.to_recover.clear();
  auto dead = engine::plan_takeover(*candidates, st.me, st.view, now, st.restart_scan);
  if (!dead.empty()) {
    auto won = engine::claim_all(*st.db, dead, st.me, system_clock{}.now());
    if (won.ok())
      claimed.insert(claimed.end(), won->begin(), won->end());
    else
      log::warning("engine", "takeover: " + won.err().message);
  }
  st.restart_scan = false;
  if (!claimed.empty())
    continue_claimed(self, std::move(claimed));
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& w : waiting)
    route_to(self, w.execution_id, std::move(w.msg), std::move(w.reply), w.attempt + 1);
}

/// Whether the store holds workflow execution `id`.
bool execution_exists(self_ptr self, const std::string& id) {
  auto row =
    self->state.db->find_one(persistence::workflow_executions_table(), {filter{"id", filter_op::eq, {id}}});
  return row.ok() && row->has_value();
}

void deliver_to(self_ptr self, const caf::actor& dest, caf::message msg, reply_promise& reply) {
  if (reply.pending()) {
    self->request(dest, std::chrono::seconds(30), std::move(msg))
      .then([reply](std::string& row) mutable { reply.deliver(std::move(row)); },
            [reply](caf::error& e) mutable { reply.deliver(std::move(e)); });
  } else {
    self->send(dest, std::move(msg));
  }
}

void not_found(const std::string& id, reply_promise& reply) {
  if (reply.pending())
    reply.deliver(
      caf::make_error(caf::sec::invalid_argument, "Workflow execution not found [id=" + id + "]"));
  else
    log::warning("engine", "a message for execution " + id + " found no owner");
}

/// Waits for the next scan: the owner is unknown or unreachable for now.
/// Gives up after a few scans (by then a dead owner has been taken over).
void wait_for_owner(self_ptr self, const std::string& id, caf::message msg, reply_promise reply,
                    int attempt) {
  constexpr int max_attempts = 30;
  if (attempt >= max_attempts) {
    not_found(id, reply);
    return;
  }
  self->state.waiting.push_back({id, std::move(msg), std::move(reply), attempt});
}

/// Sends `msg` to the actor of execution `id` wherever it runs: here,
/// forwarded to the live engine that owns it, or here after claiming it
/// from a dead one. `reply`, when pending, gets the answer of a request.
void route_to(self_ptr self, const std::string& id, caf::message msg, reply_promise reply, int attempt) {
  auto& st = self->state;
  if (auto it = st.executions.find(id); it != st.executions.end()) {
    if (auto held = st.retiring.find(id); held != st.retiring.end())
      held->second.push_back({id, std::move(msg), std::move(reply), attempt});
    else
      deliver_to(self, it->second, std::move(msg), reply);
    return;
  }
  if (st.me.epoch == 0) {
    wait_for_owner(self, id, std::move(msg), std::move(reply), attempt);
    return;
  }
  auto lease = engine::read_lease(*st.db, id);
  if (!lease.ok()) {
    log::warning("engine", "cannot read the lease of execution " + id + ": " + lease.err().message);
    wait_for_owner(self, id, std::move(msg), std::move(reply), attempt);
    return;
  }
  auto r = engine::route_message(*lease, st.me, st.view, steady_now());
  // The view may be older than the lease's owner: judge it dead only on fresh rows.
  if (r.what == engine::route::kind::claim && refresh_view(self))
    r = engine::route_message(*lease, st.me, st.view, steady_now());
  switch (r.what) {
    case engine::route::kind::local: break;
    case engine::route::kind::claim:
    case engine::route::kind::claim_new: {
      if (r.what == engine::route::kind::claim_new && !execution_exists(self, id)) {
        not_found(id, reply);
        return;
      }
      auto won = r.what == engine::route::kind::claim
                   ? engine::claim(*st.db, **lease, st.me, system_clock{}.now())
                   : engine::claim_new(*st.db, id, st.me, system_clock{}.now());
      if (!won.ok() || !*won) {
        // Another engine was faster (or the store failed): look again.
        if (attempt < 3 && won.ok())
          route_to(self, id, std::move(msg), std::move(reply), attempt + 1);
        else
          wait_for_owner(self, id, std::move(msg), std::move(reply), attempt);
        return;
      }
      continue_claimed(self, {id});
      break;
    }
    case engine::route::kind::forward: {
      if (!st.opts.directory) {
        log::warning("engine", "execution " + id + " is owned by engine " + r.node +
                                 ", which this node cannot reach (no cluster directory)");
        wait_for_owner(self, id, std::move(msg), std::move(reply), attempt);
        return;
      }
      self->request(st.opts.directory, std::chrono::seconds(5), lookup_atom_v, std::string("engine"), r.node)
        .then(
          [self, id, msg, reply, attempt](caf::actor& owner) mutable {
            if (owner && owner != caf::actor_cast<caf::actor>(self))
              deliver_to(self, owner, std::move(msg), reply);
            else
              wait_for_owner(self, id, std::move(msg), std::move(reply), attempt);
          },
          [self, id, msg, reply, attempt](caf::error&) mutable {
            wait_for_owner(self, id, std::move(msg), std::move(reply), attempt);
          });
      return;
    }
  }
  if (auto a = load_local(self, id))
    deliver_to(self, a, std::move(msg), reply);
  else
    not_found(id, reply);
}

// The heartbeat runs on its own thread, so a busy engine or a slow store
// read does not delay it.
struct heartbeat_state {
  static inline const char* name = "mistral.engine.heartbeat";
  std::shared_ptr<persistence::database> db;
  caf::actor engine;
  engine::lease_owner me;
  engine::lease_timing timing;
  timestamp last_ok = 0; ///< steady clock
  bool lost = false;
};

caf::behavior heartbeat_actor(caf::stateful_actor<heartbeat_state>* self,
                              std::shared_ptr<persistence::database> db, caf::actor engine,
                              engine::lease_owner me, engine::lease_timing timing) {
  auto& st = self->state;
  st.db = std::move(db);
  st.engine = std::move(engine);
  st.me = std::move(me);
  st.timing = timing;
  st.last_ok = steady_now();
  self->send(self, heartbeat_atom_v);
  return {
    [self](heartbeat_atom) {
      auto& st = self->state;
      if (st.me.epoch != 0 && !st.lost) {
        auto beat = engine::write_heartbeat(*st.db, st.me, system_clock{}.now());
        auto now = steady_now();
        if (beat.ok() && *beat) {
          st.last_ok = now;
        } else if (beat.ok() || now - st.last_ok > st.timing.ttl_us) {
          // Another process registered this node name, or the store was out
          // of reach for longer than the TTL: others may own our executions.
          st.lost = true;
          self->send(st.engine, lease_atom_v, st.me.epoch);
        }
      }
      self->delayed_send(self, std::chrono::microseconds(st.timing.heartbeat_us), heartbeat_atom_v);
    },
    [self](lease_atom, std::int64_t epoch) {
      self->state.me.epoch = epoch;
      self->state.lost = false;
      self->state.last_ok = steady_now();
    },
  };
}

/// Ends the retirement of execution `id`'s actor and routes the messages
/// held meanwhile: to the actor if it stays, else to a fresh one.
void release_held(self_ptr self, const std::string& id) {
  auto held = self->state.retiring.find(id);
  if (held == self->state.retiring.end())
    return;
  auto msgs = std::move(held->second);
  self->state.retiring.erase(held);
  for (auto& w : msgs)
    route_to(self, w.execution_id, std::move(w.msg), std::move(w.reply), w.attempt);
}

caf::behavior engine(self_ptr self, std::shared_ptr<persistence::database> db, caf::actor executor,
                     engine_options opts) {
  auto& st = self->state;
  st.db = std::move(db);
  st.executor = std::move(executor);
  st.opts = std::move(opts);
  st.me.node = st.opts.node_name.empty() ? std::string("engine") : st.opts.node_name;
  st.view = engine::liveness_view(st.opts.timing.ttl_us);
  attach(self);
  st.heartbeat = self->spawn<caf::detached + caf::linked>(
    heartbeat_actor, st.db, caf::actor_cast<caf::actor>(self), st.me, st.opts.timing);
  // The executions of this node's earlier epoch are taken over at once:
  // after a restart, they go on before anything else.
  scan(self);
  self->delayed_send(self, std::chrono::microseconds(st.opts.timing.takeover_us), takeover_atom_v);
  self->set_down_handler([self](const caf::down_msg& dm) {
    for (auto it = self->state.executions.begin(); it != self->state.executions.end(); ++it)
      if (it->second.address() == dm.source) {
        auto id = it->first;
        self->state.executions.erase(it);
        release_held(self, id);
        break;
      }
  });
  return {
    // A finished execution's actor may go (execution_actor.cpp): messages
    // for it wait here while it makes sure nothing revived it meanwhile.
    [self](retire_atom, const std::string& id) {
      auto& st = self->state;
      auto it = st.executions.find(id);
      if (it == st.executions.end() || it->second.address() != self->current_sender())
        return;
      st.retiring.emplace(id, std::vector<waiting_message>{});
      self->send(it->second, retire_atom_v, id);
    },
    [self](retired_atom, const std::string& id) {
      auto& st = self->state;
      if (auto it = st.executions.find(id);
          it != st.executions.end() && it->second.address() == self->current_sender())
        st.executions.erase(it);
      release_held(self, id); // loaded again from the store when they need it
    },
    [self](revived_atom, const std::string& id) { release_held(self, id); },
    [self](takeover_atom) {
      scan(self);
      self->delayed_send(self, std::chrono::microseconds(self->state.opts.timing.takeover_us),
                         takeover_atom_v);
    },
    [self](lease_atom, std::int64_t epoch) {
      if (epoch == self->state.me.epoch && epoch != 0)
        detach(self, "its heartbeat could not be written for longer than the lease TTL");
    },
    [self](start_atom, start_execution& req) -> caf::result<std::string> {
      if (self->state.me.epoch == 0)
        return caf::make_error(caf::sec::runtime_error, "the engine cannot reach the store");
      auto rp = self->make_response_promise<std::string>();
      auto ex = new_execution(req);
      // Root executions only: a sub-workflow inherits its parent's params.notify.
      if (req.parent_execution_id.empty())
        notifier::add_configured_publishers(ex.wf.params,
                                            self->state.opts.notifications.configured_publishers);
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
      if (m.execution_id.empty()) {
        log::warning("engine", "no execution for action " + m.action_id);
        return;
      }
      auto id = m.execution_id;
      route_to(self, id, caf::make_message(std::move(m)));
    },
    [self](timer_msg& m) {
      auto id = m.execution_id;
      route_to(self, id, caf::make_message(std::move(m)));
    },
    [self](cluster_waiting_atom, std::string& execution_id, std::string& task_id, std::string& info) {
      // A recovered action waits for an executor: its execution writes why.
      auto id = execution_id;
      route_to(self, id,
               caf::make_message(cluster_waiting_atom_v, std::move(execution_id), std::move(task_id),
                                 std::move(info)));
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
      auto id = m.execution_id;
      route_to(self, id, caf::make_message(std::move(m)));
    },
    [self](control_msg& m) -> caf::result<std::string> {
      auto& st = self->state;
      if (m.what == control_msg::forget) {
        auto it = st.executions.find(m.execution_id);
        st.parent_of.erase(m.execution_id);
        if (it == st.executions.end()) {
          // Its actor may live on another engine.
          auto lease = engine::read_lease(*st.db, m.execution_id);
          if (!lease.ok() || engine::route_message(*lease, st.me, st.view, steady_now()).what !=
                               engine::route::kind::forward)
            return std::string("{}");
          auto rp = self->make_response_promise<std::string>();
          auto id = m.execution_id;
          route_to(self, id, caf::make_message(std::move(m)), rp);
          return rp;
        }
        auto live = it->second;
        st.executions.erase(it);
        auto rp = self->make_response_promise<std::string>();
        self->request(live, std::chrono::seconds(30), std::move(m))
          .then([rp](std::string& row) mutable { rp.deliver(std::move(row)); },
                [rp](caf::error&) mutable { rp.deliver(std::string("{}")); });
        return rp;
      }
      auto rp = self->make_response_promise<std::string>();
      auto id = m.execution_id;
      route_to(self, id, caf::make_message(std::move(m)), rp);
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_engine(caf::actor_system& sys, std::shared_ptr<persistence::database> db,
                        caf::actor executor, engine_options opts) {
  return sys.spawn(engine, std::move(db), std::move(executor), std::move(opts));
}

} // namespace mistral::actors

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

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>

namespace mistral::actors {

namespace {

using namespace mistral::engine;

using action::adhoc_from_raw;

/// The machine's view of the world from inside an execution actor.
class actor_env final : public machine_env {
public:
  actor_env(std::shared_ptr<persistence::database> db, std::int64_t field_size_limit_kb)
    : db_(std::move(db)), field_size_limit_kb_(field_size_limit_kb) {}

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

  std::int64_t field_size_limit_kb() const override { return field_size_limit_kb_; }

  std::size_t take_items(std::size_t wanted) override {
    std::size_t n = std::min(wanted, items_left_);
    items_left_ -= n;
    return n;
  }
  /// Every turn (an event and its instant actions, one commit) may start this many items.
  void set_items_per_turn(std::size_t n) { items_left_ = n; }

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
  std::int64_t field_size_limit_kb_;
  system_clock clock_;
  mutable timestamp last_ = 0;
  std::size_t items_left_ = 0;
};

struct execution_state {
  static inline const char* name = "mistral.execution";
  engine::execution ex;
  execution_deps deps;
  std::unique_ptr<actor_env> env;
  caf::response_promise starter; ///< pending while the first decision's sub-workflows start
  bool starting = false;
  int pending_starts = 0;
  std::string start_row; ///< the row as the start decision left it, before any action result
  /// Instant actions started and committed (with their dispatch) but not run
  /// yet: the rest of a big with-items or of a long chain of std.noop tasks,
  /// run a chunk per commit.
  std::deque<cmd_run_action> instant_backlog;
  std::size_t fresh_in_backlog = 0; ///< the backlog's newest entries, started by the decision being stored
  bool instant_turn_queued = false; ///< an instant_atom is in the mailbox
  bool retiring = false;            ///< asked the engine to retire this actor, not confirmed yet
  bool leased = false; ///< the lease row is committed (own_op went through, or the engine claimed it)
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
  return answer_row_text(ex.wf);
}

void carry_out(self_ptr self, decision& d);
void queue_instant_turn(self_ptr self);
void maybe_retire(self_ptr self);

/// Answers the starter with the row once the sub-workflows of the first
/// decision have started, so a new execution is seen with its whole start.
void deliver_start(self_ptr self) {
  auto& st = self->state;
  if (st.starter.pending())
    st.starter.deliver(st.start_row.empty() ? row_json(st.ex) : st.start_row);
}

/// What to do once an event's writes are committed: `committed` is false
/// when the store refused them (the actor is stopping then).
using after_commit = std::function<void(self_ptr, bool committed)>;

/// Waits for the commit of the event being applied: every other message
/// stays in the mailbox until it arrives, so events apply one at a time in
/// the order they came, each committed before its commands are carried out.
void await_commit(self_ptr self, std::shared_ptr<decision> d, after_commit then) {
  self->set_default_handler(caf::skip);
  self->become(caf::keep_behavior, [self, d, then](committed_atom, bool ok, const std::string& why) {
    self->unbecome();
    self->set_default_handler(caf::print_and_drop);
    if (!ok && why == persistence::fenced_message) {
      // Another engine took the execution over: what this one decided is
      // rolled back and nothing of it is carried out.
      log::info("engine", "execution " + self->state.ex.wf.id + " is owned by another engine now; " +
                            self->state.deps.owner.node + " lets it go");
      self->quit(caf::exit_reason::normal);
      return;
    }
    if (!ok) {
      log::error("engine", "commit failed for execution " + self->state.ex.wf.id + ": " + why);
      if (then)
        then(self, false);
      self->quit(caf::exit_reason::unhandled_exception);
      return;
    }
    carry_out(self, *d);
    if (then)
      then(self, true);
    queue_instant_turn(self);
    maybe_retire(self);
  });
}

bool is_instant(const cmd_run_action& r) {
  return (r.target.is_null() || r.target == "") && action::is_instant_action(r.action, r.input);
}

/// Moves the instant actions of `commands` to the end of the backlog, in
/// order; returns how many.
std::size_t queue_instant(std::vector<command>& commands, std::deque<cmd_run_action>& backlog) {
  std::size_t queued = 0;
  std::vector<command> rest;
  rest.reserve(commands.size());
  for (auto& c : commands) {
    auto* r = std::get_if<cmd_run_action>(&c);
    if (r && is_instant(*r)) {
      backlog.push_back(std::move(*r));
      ++queued;
    } else {
      rest.push_back(std::move(c));
    }
  }
  commands = std::move(rest);
  return queued;
}

/// Decides `ev` (none: only the backlog goes on), then feeds the results of
/// the instant actions (std.noop, std.echo, ...) straight back into the
/// machine, oldest first, as if an executor had answered at once, up to
/// [engine] instant_actions_per_commit of them: they complete inside the same
/// commit. A with-items over 100,000 std.noop items (or a long loop of
/// std.noop tasks) thus runs in chunks, each its own commit, and other
/// messages of this actor (and other actors) get their turn in between. Their action executions are stored as
/// usual; the rest stay in the backlog for the next commit.
decision decide_with_instant_actions(self_ptr self, const event* ev) {
  auto& st = self->state;
  st.env->set_items_per_turn(
    static_cast<std::size_t>(std::max<std::int64_t>(1, st.deps.with_items_per_commit)));
  decision total = ev ? decide(st.ex, *ev, *st.env) : decision{};
  // Mistral answers a new execution with the state its start transaction
  // left: the results of instant actions come later (RUNNING, not SUCCESS).
  if (st.starting && st.start_row.empty())
    st.start_row = row_json(st.ex);
  auto& backlog = st.instant_backlog;
  auto budget = static_cast<std::size_t>(std::max<std::int64_t>(1, st.deps.instant_actions_per_commit));
  std::size_t queued = queue_instant(total.commands, backlog);
  while (!backlog.empty() && budget > 0) {
    std::size_t n = std::min(budget, backlog.size());
    budget -= n;
    std::vector<event> results;
    results.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      cmd_run_action r = std::move(backlog.front());
      backlog.pop_front();
      action::action_context ctx;
      ctx.workflow_execution_id = st.ex.wf.id;
      ctx.task_execution_id = r.task_id;
      ctx.action_execution_id = r.action_id;
      results.push_back(ev_action_done{r.action_id, action::run_std_action(r.action, r.input, ctx).result});
    }
    for (const auto& result : results) {
      decision d = decide(st.ex, result, *st.env);
      total.dirty_tasks.merge(d.dirty_tasks);
      total.dirty_actions.merge(d.dirty_actions);
      total.wf_dirty = total.wf_dirty || d.wf_dirty;
      queued += queue_instant(d.commands, backlog);
      for (auto& c : d.commands)
        total.commands.push_back(std::move(c));
    }
  }
  // Queued last, so the newest entries: the ones this decision started and
  // did not run yet.
  st.fresh_in_backlog = std::min(queued, backlog.size());
  drop_repeated_timers(total.commands);
  return total;
}

/// The writes of `d`; the instant actions left in the backlog that `d`
/// created are stored with their dispatch, like any action it starts.
std::vector<persistence::write_op> writes_of(self_ptr self, decision& d) {
  auto& st = self->state;
  auto& backlog = st.instant_backlog;
  std::size_t own = d.commands.size();
  std::size_t first = backlog.size() - st.fresh_in_backlog;
  for (std::size_t i = first; i < backlog.size(); ++i)
    d.commands.push_back(std::move(backlog[i]));
  auto writes = writes_for(st.ex, d, system_clock{}.now());
  for (std::size_t i = first; i < backlog.size(); ++i)
    backlog[i] = std::move(std::get<cmd_run_action>(d.commands[own + (i - first)]));
  d.commands.resize(own);
  st.fresh_in_backlog = 0;
  return writes;
}

/// Once a commit is carried out: the backlog's next chunk gets a turn after
/// the messages already waiting.
void queue_instant_turn(self_ptr self) {
  auto& st = self->state;
  if (st.instant_backlog.empty() || st.instant_turn_queued)
    return;
  st.instant_turn_queued = true;
  self->send(self, instant_atom_v);
}

/// Applies one event (none: the next chunk of the instant backlog): decide,
/// commit (group-committed with other executions' writes), then act. A failed
/// commit stops the actor without acting, so nothing happens that the store
/// does not know. `also` commits in the same transaction (e.g. the fired
/// timer's removal).
void apply_event(self_ptr self, const event* ev, after_commit then = {},
                 std::vector<persistence::write_op> also = {}) {
  auto& st = self->state;
  auto d = std::make_shared<decision>(decide_with_instant_actions(self, ev));
  // `also` goes first: a fired timer's removal must not delete the timer of
  // the same id that this decision arms again (a retry that fails at once).
  auto writes = std::move(also);
  auto decided = writes_of(self, *d);
  writes.insert(writes.end(), std::make_move_iterator(decided.begin()),
                std::make_move_iterator(decided.end()));
  if (writes.empty()) {
    carry_out(self, *d);
    if (then)
      then(self, true);
    queue_instant_turn(self);
    maybe_retire(self);
    return;
  }
  // The lease: inserted with the first commit of a new execution, checked
  // (and marked finished or not) by every other one, inside the same
  // transaction.
  const auto& owner = st.deps.owner;
  if (st.leased) {
    writes.insert(writes.begin(), fence_op(st.ex.wf.id, owner, is_completed(st.ex.wf.st)));
  } else {
    writes.push_back(own_op(st.ex.wf.id, owner, system_clock{}.now()));
    st.leased = true; // a failed first commit stops the actor
  }
  auto me = caf::actor_cast<caf::actor>(self);
  st.deps.db->write_batch_async(std::move(writes), [me](status s) {
    caf::anon_send(me, committed_atom_v, s.ok(), s.ok() ? std::string() : s.err().message);
  });
  await_commit(self, std::move(d), std::move(then));
}

void apply_event(self_ptr self, const event& ev, after_commit then = {},
                 std::vector<persistence::write_op> also = {}) {
  apply_event(self, &ev, std::move(then), std::move(also));
}

// The timer's row was committed with the decision (writes_for).
void schedule_timer(self_ptr self, const cmd_schedule_timer& t) {
  timer_msg m{self->state.ex.wf.id, t.task_id, static_cast<std::int32_t>(t.kind)};
  // The next items of a with-items start after the messages already waiting,
  // without a trip through the clock thread.
  if (t.kind == timer_kind::items && t.delay_seconds <= 0)
    return self->send(self, std::move(m));
  auto delay = std::chrono::microseconds(static_cast<std::int64_t>(t.delay_seconds * 1e6));
  self->delayed_send(self, delay, std::move(m));
}

// Only ever called after the commit: a notification never reports a state
// the store does not have (Mistral's post_tx_queue).
void send_notification(self_ptr self, const cmd_notify& n) {
  notify_msg m;
  m.execution_id = n.execution_id;
  m.has_event = n.event.has_value();
  m.event = n.event.value_or("");
  m.data_json = n.data.dump();
  m.publishers_json = n.publishers.dump();
  m.timestamp = n.at;
  if (self->state.deps.notifier)
    self->send(self->state.deps.notifier, std::move(m));
  else
    log::warning("engine", "no notifier: " + m.event + " of " + m.execution_id + " is not published");
}

/// Whether this actor has nothing left to do: its execution is finished,
/// and no action, start or instant work of it is still on its way.
bool retirable(self_ptr self) {
  const auto& st = self->state;
  if (!is_completed(st.ex.wf.st) || !st.instant_backlog.empty() || st.pending_starts != 0 ||
      st.starter.pending())
    return false;
  for (const auto& [id, a] : st.ex.actions)
    if (a.st == state::running)
      return false;
  return true;
}

/// A finished execution's actor asks its engine to let it go, so finished
/// executions cost no memory; the engine loads it again from the store if
/// a message for it comes later (a rerun). See engine_actor.cpp.
void maybe_retire(self_ptr self) {
  auto& st = self->state;
  if (st.retiring || !st.deps.engine || !retirable(self))
    return;
  st.retiring = true;
  self->send(st.deps.engine, retire_atom_v, st.ex.wf.id);
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
        if (counted && --self->state.pending_starts == 0) {
          deliver_start(self);
          maybe_retire(self);
        }
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
    } else if (auto* note = std::get_if<cmd_notify>(&c)) {
      send_notification(self, *note);
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
  self->state.env = std::make_unique<actor_env>(deps.db, deps.field_size_limit_kb);
  self->state.deps = std::move(deps);
  self->state.ex = std::move(ex);
  self->state.leased = !start; // a loaded execution's lease is already this engine's
  if (self->state.deps.engine) {
    self->monitor(self->state.deps.engine);
    self->set_down_handler([self](const caf::down_msg& dm) {
      if (dm.source == self->state.deps.engine.address())
        self->quit(dm.reason);
    });
  }
  if (start) {
    self->state.starter = std::move(starter);
    self->send(self, start_atom_v);
  }
  return {
    [self](start_atom) {
      // The first decision's sub-workflows are counted while it is carried out.
      self->state.starting = true;
      apply_event(self, ev_start{}, [](self_ptr me, bool committed) {
        me->state.starting = false;
        if (!committed)
          me->state.starter.deliver(
            caf::make_error(caf::sec::runtime_error, "cannot commit the new execution"));
        else if (me->state.pending_starts == 0)
          deliver_start(me);
      });
    },
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
    [self](instant_atom) {
      self->state.instant_turn_queued = false;
      if (!self->state.instant_backlog.empty())
        apply_event(self, nullptr);
    },
    [self](timer_msg& m) {
      // The next items of a with-items wait until the instant actions already
      // started have run (their turns are queued), so the backlog stays one
      // chunk whatever [engine] with_items_per_commit is.
      if (static_cast<timer_kind>(m.kind) == timer_kind::items && !self->state.instant_backlog.empty()) {
        self->send(self, std::move(m));
        return;
      }
      persistence::write_op fired{
        persistence::write_op::kind::remove,
        &persistence::delayed_calls_table(),
        {},
        {persistence::filter{"id", persistence::filter_op::eq, {timer_id(m.task_id, m.kind)}}}};
      apply_event(self, ev_timer{m.task_id, static_cast<timer_kind>(m.kind)}, {}, {std::move(fired)});
    },
    [self](cluster_waiting_atom, const std::string&, const std::string& task_id, const std::string& info) {
      // The cluster dispatcher holds the task's action until an executor
      // (of its target) joins: the task row says so meanwhile.
      auto& st = self->state;
      auto* t = st.ex.find_task(task_id);
      if (!t || t->st != state::running)
        return;
      t->state_info = info.empty() ? std::nullopt : std::optional<std::string>(info);
      std::vector<persistence::write_op> w{{persistence::write_op::kind::upsert,
                                            &persistence::task_executions_table(),
                                            engine::to_record(*t, st.ex.wf),
                                            {}}};
      st.deps.db->write_batch_async(std::move(w), [](status) {});
    },
    [self](retire_atom, const std::string& id) {
      // The engine holds this execution's messages until we answer.
      auto& st = self->state;
      st.retiring = false;
      if (retirable(self)) {
        self->send(st.deps.engine, retired_atom_v, id);
        self->quit();
      } else {
        self->send(st.deps.engine, revived_atom_v, id);
      }
    },
    [self](control_msg& m) {
      auto reply = self->make_response_promise();
      if (m.what == control_msg::forget) {
        reply.deliver(std::string("{}"));
        self->quit();
        return reply;
      }
      apply_event(self, to_event(m),
                  [reply](self_ptr me, bool) mutable { reply.deliver(row_json(me->state.ex)); });
      return reply;
    },
  };
}

} // namespace

caf::actor spawn_execution(caf::actor_system& sys, execution_deps deps, engine::execution ex, bool start,
                           caf::response_promise starter) {
  return sys.spawn(execution_actor, std::move(deps), std::move(ex), start, std::move(starter));
}

} // namespace mistral::actors

#include "actors/workflow/machine.hpp"

#include "actors/workflow/expression_host.hpp"
#include "actors/workflow/field_size.hpp"
#include "actors/workflow/notifications.hpp"
#include "dsl/expr/expression.hpp"
#include "dsl/expr/py_value.hpp"
#include "dsl/parser.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace mistral::engine {

namespace {

// Python's merge_dicts(left, right): right's keys recursively into left.
void merge_into(json& left, const json& right) {
  if (!right.is_object())
    return;
  if (!left.is_object())
    left = json::object();
  for (auto it = right.begin(); it != right.end(); ++it) {
    if (left.contains(it.key()) && left[it.key()].is_object() && it.value().is_object())
      merge_into(left[it.key()], it.value());
    else
      left[it.key()] = it.value();
  }
}

// Python's dict.update: shallow.
void update_into(json& left, const json& right) {
  if (!right.is_object())
    return;
  if (!left.is_object())
    left = json::object();
  for (auto it = right.begin(); it != right.end(); ++it)
    left[it.key()] = it.value();
}

std::string py_list_of_names(const std::vector<std::string>& names) {
  json arr = json::array();
  for (const auto& n : names)
    arr.push_back(n);
  return expr::py_repr(arr);
}

/// The expression data of one evaluation: layers built here stay alive for
/// the duration of the evaluation.
struct eval_scope {
  json task_dict;
  json env_layer;
  json item_layer;
};

class machine {
public:
  machine(execution& ex, machine_env& env) : ex_(ex), env_(env) {}

  decision run(const event& ev) {
    // A completion keeps the with-items tallies and cursors, and so does the
    // start of the next items (it only starts actions); anything else may
    // change actions or contexts (reruns, updates, stops, env), so they are
    // counted again when needed.
    const auto* timer = std::get_if<ev_timer>(&ev);
    if (!std::holds_alternative<ev_action_done>(ev) && !(timer && timer->kind == timer_kind::items))
      for (auto& t : ex_.tasks)
        forget_counts(t);
    std::visit([this](const auto& e) { handle(e); }, ev);
    return std::move(d_);
  }

private:
  // ---- bookkeeping ---------------------------------------------------------

  static void forget_counts(task_execution& t) {
    t.tally.valid = false;
    t.cursor = task_execution::items_cursor{};
  }

  void touch_wf() {
    ex_.wf.updated_at = env_.now();
    d_.wf_dirty = true;
  }
  void touch(task_execution& t) {
    t.updated_at = env_.now();
    d_.dirty_tasks.insert(t.id);
  }
  void touch(action_execution& a) {
    a.updated_at = env_.now();
    d_.dirty_actions.insert(a.id);
  }

  const dsl::workflow_spec& spec() const { return *ex_.spec; }
  bool is_reverse() const { return spec().type == dsl::workflow_type::reverse; }
  const dsl::task_spec* task_spec_of(const std::string& name) const { return spec().find_task(name); }
  const dsl::task_defaults_spec* defaults() const {
    return spec().task_defaults ? &*spec().task_defaults : nullptr;
  }

  json env_dict() const {
    const auto& params = ex_.wf.params;
    json env = params.is_object() && params.contains("env") ? params["env"] : json::object();
    return json{{"__env", env}};
  }

  // ---- expressions ---------------------------------------------------------

  /// Evaluates `value` recursively with Mistral's ContextView for a task:
  /// __task_execution, item, ctx, __env, wf context, wf input.
  result<json> eval(const json& value, const task_execution* t, const json& ctx, const json* item = nullptr) {
    eval_scope scope;
    std::vector<const json*> layers;
    if (t) {
      scope.task_dict = json{{"__task_execution", {{"id", t->id}, {"name", t->name}}}};
      layers.push_back(&scope.task_dict);
    }
    if (item)
      layers.push_back(item);
    layers.push_back(&ctx);
    scope.env_layer = env_dict();
    layers.push_back(&scope.env_layer);
    layers.push_back(&ex_.wf.context);
    layers.push_back(&ex_.wf.input);
    return evaluate_over(value, std::move(layers), t);
  }

  /// Task.evaluate's view (action input, action name, with-items, target):
  /// __task_execution, __env, the item merged over the task context (or the
  /// extra context, or nothing), the task context, the workflow context, the
  /// workflow input.
  result<json> eval_for_task(const json& value, const task_execution& t, const json* item = nullptr,
                             const json* ctx = nullptr) {
    eval_scope scope;
    scope.task_dict = json{{"__task_execution", {{"id", t.id}, {"name", t.name}}}};
    scope.env_layer = env_dict();
    json merged;
    if (item) {
      merged = *item;
      merge_into(merged, t.in_context);
    }
    // Without an item or an extra context Mistral passes `ctx or {}`: the
    // layer is empty (it shows as an empty part in the data= text of errors).
    static const json no_ctx = json::object();
    const json* first = item ? &merged : ctx ? ctx : &no_ctx;
    std::vector<const json*> layers{&scope.task_dict, &scope.env_layer, first,
                                    &t.in_context,    &ex_.wf.context,  &ex_.wf.input};
    return evaluate_over(value, std::move(layers), &t);
  }

  result<json> evaluate_over(const json& value, std::vector<const json*> layers, const task_execution* t) {
    expression_host host(ex_, t);
    expr::eval_env e{expr::data_view(std::move(layers)), &host, {}};
    return expr::evaluate_recursively(value, e);
  }

  result<bool> eval_condition(const std::string& cond, const task_execution* t, const json& ctx) {
    auto v = eval(json(cond), t, ctx);
    if (!v.ok())
      return std::move(v).err();
    return expr::py_truthy(*v);
  }

  // ---- events --------------------------------------------------------------

  void handle(const ev_start&) {
    prepare_environment();
    ex_.wf.context = json::object();
    ex_.wf.context["__execution"] = json{{"id", ex_.wf.id}};
    if (!spec().vars.empty()) {
      auto vars = eval(spec().vars, nullptr, json::object());
      if (!vars.ok()) {
        set_wf_state(state::running, std::nullopt);
        fail_workflow(vars.err().message);
        return;
      }
      merge_into(ex_.wf.context, *vars);
    }
    set_wf_state(state::running, std::nullopt);
    if (is_reverse())
      start_reverse();
    else
      start_direct();
    check_and_complete();
  }

  void handle(const ev_action_done& ev) {
    auto it = ex_.actions.find(ev.action_id);
    if (it == ex_.actions.end())
      return;
    action_execution& a = it->second;
    if (is_completed(a.st))
      return; // a duplicate delivery: completions apply once
    task_execution* t = ex_.find_task(a.task_id);
    complete_action(a, ev.result);
    // Results after a cancel or a task timeout are recorded and ignored; after
    // a fail or succeed command the task still completes (nothing follows it).
    if (!t || is_completed(t->st) || ex_.wf.st == state::cancelled || !a.accepted) {
      check_action_output(a, t, false);
      return;
    }
    on_action_complete(*t, a);
  }

  void handle(const ev_timer& ev) {
    task_execution* t = ex_.find_task(ev.task_id);
    if (!t || is_completed(ex_.wf.st))
      return;
    const dsl::task_spec* ts = task_spec_of(t->name);
    if (!ts)
      return;
    switch (ev.kind) {
      case timer_kind::wait_before:
        if (t->st != state::delayed)
          return;
        set_task_state(*t, state::running, std::nullopt);
        schedule_actions(*t, *ts);
        break;
      case timer_kind::retry:
        if (t->st == state::waiting && !ts->join.is_null()) {
          refresh_join(t->id);
          break;
        }
        if (t->st != state::delayed)
          return;
        set_task_state(*t, state::running, std::nullopt);
        schedule_actions(*t, *ts);
        break;
      case timer_kind::wait_after: {
        if (t->st != state::delayed)
          return;
        auto& rc = t->runtime_context;
        state end =
          state_from_string(rc["wait_after_policy"].value("end_state", "SUCCESS")).value_or(state::success);
        json info = rc["wait_after_policy"].value("end_state_info", json(nullptr));
        rc["wait_after_policy"]["skip"] = true;
        t->st = state::running; // let complete() set the saved final state
        complete_task(*t, end,
                      info.is_string() ? std::optional<std::string>(info.get<std::string>()) : std::nullopt);
        break;
      }
      case timer_kind::join_refresh: refresh_join(t->id); break;
      case timer_kind::items:
        // The items left for this commit start, even while the workflow is
        // paused: without chunks they would all have started with the task.
        if (t->st != state::running || ts->with_items.empty() || !t->runtime_context.contains("with_items"))
          return;
        if (auto values = items_of(*t, *ts); values)
          schedule_next_items(*t, *ts, *values);
        break;
      case timer_kind::timeout:
        if (is_completed(t->st))
          return;
        complete_task(*t, state::error, "Task timed out [timeout(s)=" + timeout_text(*t, *ts) + "].");
        break;
    }
    check_and_complete();
  }

  void handle(const ev_pause& ev) {
    if (is_paused_or_completed(ex_.wf.st))
      return;
    set_wf_state(state::paused, ev.msg);
    control_subworkflows(ev_pause{ev.msg});
  }

  void handle(const ev_resume& ev) {
    if (ex_.wf.st != state::paused && ex_.wf.st != state::idle)
      return;
    if (ev.env.is_object()) {
      if (!ex_.wf.params.is_object())
        ex_.wf.params = json::object();
      merge_into(ex_.wf.params["env"], ev.env);
    }
    set_wf_state(state::running, std::nullopt);
    control_subworkflows(ev_resume{ev.env});
    // Tasks held by pause-before run now; completed unprocessed tasks and
    // the backlog continue.
    std::vector<std::string> idle, unprocessed;
    for (auto& t : ex_.tasks) {
      if (t.st == state::idle)
        idle.push_back(t.id);
      else if (is_completed(t.st) && !t.processed)
        unprocessed.push_back(t.id);
    }
    for (const auto& id : idle) {
      task_execution* t = ex_.find_task(id);
      const dsl::task_spec* ts = task_spec_of(t->name);
      t->runtime_context["pause_before_policy"] = json{{"skip", true}};
      set_task_state(*t, state::running, std::nullopt);
      if (ts)
        start_task_body(*t, *ts);
    }
    for (const auto& id : unprocessed) {
      task_execution* t = ex_.find_task(id);
      if (t)
        after_completion(*t);
    }
    run_backlog();
    check_and_complete();
  }

  /// Mistral's _on_action_update for a sub-workflow: the task follows its
  /// child (RUNNING only when no child is paused), a paused child pauses the
  /// workflow, and the last resumed child resumes it.
  /// The workflow runs again for a rerun inside it; its parents follow.
  void rerun_workflow() {
    bool was_completed = is_completed(ex_.wf.st);
    set_wf_state(state::running, std::nullopt);
    ex_.wf.state_info.reset();
    ex_.wf.output = json::object();
    if (was_completed && ex_.wf.task_execution_id)
      d_.commands.push_back(cmd_notify_parent{state::running, true});
  }

  /// Mistral's _recursive_rerun seen from the parent: the task that ran the
  /// rerun sub-workflow is RUNNING again and waits for its new result.
  void reopen_for_rerun(action_execution& link) {
    link.st = state::running;
    link.output = nullptr;
    touch(link);
    task_execution* t = ex_.find_task(link.task_id);
    if (!t)
      return;
    // The workflow runs again before its task, as in Mistral's _recursive_rerun
    // (WORKFLOW_RERUN is published before TASK_RERUN).
    if (ex_.wf.st != state::paused)
      rerun_workflow();
    if (is_completed(t->st)) {
      t->processed = false;
      t->error_handled = false;
      t->next_tasks.clear();
      t->has_next_tasks = false;
      t->finished_at.reset();
      set_task_state(*t, state::running, std::nullopt);
    }
  }

  void handle(const ev_action_update& ev) {
    if (ev.rerun) {
      auto link = ex_.actions.find(ev.action_id);
      if (link != ex_.actions.end())
        reopen_for_rerun(link->second);
      return;
    }
    auto it = ex_.actions.find(ev.action_id);
    if (it == ex_.actions.end() || is_completed(it->second.st) || is_completed(ex_.wf.st))
      return;
    it->second.st = ev.st;
    touch(it->second);
    task_execution* t = ex_.find_task(it->second.task_id);
    if (t && !is_completed(t->st) && is_valid_transition(t->st, ev.st) &&
        !(ev.st == state::running && has_paused_child(*t)))
      set_task_state(*t, ev.st, t->state_info);
    if (ev.st == state::paused) {
      handle(ev_pause{});
      return;
    }
    for (const auto& task : ex_.tasks)
      if (task.st == state::paused)
        return;
    handle(ev_resume{});
  }

  bool has_paused_child(const task_execution& t) const {
    for (const auto& id : t.executions) {
      auto it = ex_.actions.find(id);
      if (it != ex_.actions.end() && it->second.st == state::paused)
        return true;
    }
    return false;
  }

  void handle(const ev_stop& ev) {
    if (is_completed(ex_.wf.st))
      return;
    if (ev.target == state::success) {
      succeed_workflow(ev.msg);
    } else if (ev.target == state::error) {
      fail_workflow(ev.msg);
    } else {
      cancel_workflow(ev.msg);
    }
  }

  void handle(const ev_rerun& ev) {
    task_execution* t = ex_.find_task(ev.task_id);
    if (!t || t->st != state::error)
      return;
    const dsl::task_spec* ts = task_spec_of(t->name);
    if (!ts)
      return;
    if (ev.env.is_object())
      merge_into(ex_.wf.params["env"], ev.env);
    rerun_workflow();
    for (const auto& id : t->executions) {
      auto it = ex_.actions.find(id);
      if (it == ex_.actions.end())
        continue;
      bool failed = it->second.st == state::error || it->second.st == state::cancelled;
      if (ev.reset || (it->second.accepted && failed)) {
        it->second.accepted = false;
        touch(it->second);
      }
    }
    t->processed = false;
    t->error_handled = false;
    t->next_tasks.clear();
    t->has_next_tasks = false;
    t->runtime_context.erase("retry_task_policy");
    set_task_state(*t, state::running, std::nullopt);
    t->finished_at.reset();
    schedule_actions(*t, *ts);
    check_and_complete();
  }

  // ---- workflow state ------------------------------------------------------

  void prepare_environment() {
    auto& params = ex_.wf.params;
    if (!params.is_object())
      params = json::object();
    if (!params.contains("env") || !params["env"].is_object())
      params["env"] = json::object();
    bool evaluate_env = !params.contains("evaluate_env") || expr::py_truthy(params["evaluate_env"]);
    if (evaluate_env && !params["env"].empty()) {
      json root = json{{"__env", params["env"]}};
      expr::eval_env e{expr::data_view(root), nullptr, {}};
      auto evaluated = expr::evaluate_recursively(params["env"], e);
      if (evaluated.ok())
        params["env"] = *evaluated;
    }
  }

  void set_wf_state(state s, std::optional<std::string> info) {
    // A sub-workflow's pause and resume reach its parent task (Mistral's
    // schedule_on_action_update in Workflow.pause/resume).
    bool paused = s == state::paused && ex_.wf.st != state::paused;
    bool resumed = s == state::running && ex_.wf.st == state::paused;
    if (ex_.wf.task_execution_id && (paused || resumed))
      d_.commands.push_back(cmd_notify_parent{s});
    state from = ex_.wf.st;
    ex_.wf.st = s;
    ex_.wf.state_info = info ? std::optional<std::string>(cut_state_info(*info)) : std::nullopt;
    touch_wf();
    notify_workflow(from);
  }

  /// How a task's state change is announced: as Mistral's Task.set_state does
  /// (only when the state or state_info changed), as the first state of a new
  /// task (Mistral creates it without a state: TASK_LAUNCHED), or not at all
  /// (a step Mistral does not take, e.g. a failing join set RUNNING first).
  enum class announce { change, created, silent };

  void set_task_state(task_execution& t, state s, std::optional<std::string> info,
                      announce how = announce::change) {
    if (s == state::running && !t.started_at)
      t.started_at = env_.now();
    if (is_completed(s))
      t.finished_at = env_.now();
    state from = t.st;
    auto old_info = std::move(t.state_info);
    t.st = s;
    t.state_info = info ? std::optional<std::string>(cut_state_info(*info)) : std::nullopt;
    touch(t);
    if (how == announce::created)
      notify_task(t, std::nullopt);
    else if (how == announce::change && (from != s || old_info != t.state_info))
      notify_task(t, from);
  }

  // ---- notifications -------------------------------------------------------

  /// Mistral's Workflow._notify after a state change from `from`.
  void notify_workflow(state from) {
    if (!has_publishers(ex_.wf.params))
      return;
    auto event = workflow_event(from, ex_.wf.st);
    json publishers = publishers_for(ex_.wf.params, event);
    if (publishers.empty())
      return;
    d_.commands.push_back(cmd_notify{ex_.wf.id, event, workflow_notification(ex_.wf, event),
                                     std::move(publishers), ex_.wf.updated_at});
  }

  /// Mistral's Task._notify after a state change from `from` (nullopt: created).
  void notify_task(const task_execution& t, std::optional<state> from) {
    if (!has_publishers(ex_.wf.params))
      return;
    auto event = task_event(from, t.st);
    json publishers = publishers_for(ex_.wf.params, event);
    if (publishers.empty())
      return;
    d_.commands.push_back(
      cmd_notify{t.id, event, task_notification(ex_.wf, t, event), std::move(publishers), t.updated_at});
  }

  void control_subworkflows(event what) {
    std::vector<std::string> ids;
    for (const auto& t : ex_.tasks) {
      if (t.type != "WORKFLOW" || is_completed(t.st))
        continue;
      for (const auto& id : t.executions) {
        auto it = ex_.actions.find(id);
        if (it != ex_.actions.end() && !is_completed(it->second.st))
          ids.push_back(id);
      }
    }
    if (!ids.empty())
      d_.commands.push_back(cmd_control_subworkflows{ids, std::move(what)});
  }

  json final_context() const {
    json ctx = json::object();
    if (is_reverse()) {
      std::string target = ex_.wf.params.value("task_name", "");
      if (const task_execution* t = ex_.last_task_named(target))
        return outbound_context(*t);
      return ctx;
    }
    for (const auto& t : ex_.tasks)
      if (is_completed(t.st) && !t.has_next_tasks)
        merge_into(ctx, outbound_context(t));
    return ctx;
  }

  void succeed_workflow(std::optional<std::string> msg) {
    json ctx = final_context();
    json output = ctx;
    if (!spec().output.empty()) {
      auto evaluated = eval(spec().output, nullptr, ctx);
      if (!evaluated.ok()) {
        fail_workflow("Failed to check and complete [wf_ex_id=" + ex_.wf.id +
                      ", wf_name=" + ex_.wf.workflow_name + "]: " + evaluated.err().message);
        return;
      }
      output = expr::py_truthy(*evaluated) ? *evaluated : ctx;
    }
    set_wf_state(state::success, std::move(msg));
    // Mistral sets the state first; an oversized output then raises in
    // check_and_complete, whose force_fail_workflow finds the workflow
    // completed: it stays SUCCESS with the output it was created with.
    if (field_size_error("output", output, limit_kb()))
      output = json::object();
    ex_.wf.output = output;
    d_.commands.push_back(cmd_completed{state::success, output, std::nullopt});
  }

  void fail_workflow(std::optional<std::string> msg_opt) {
    std::string msg = msg_opt.value_or("");
    if (is_paused_or_completed(ex_.wf.st) && ex_.wf.st != state::paused)
      return;
    // evaluate_workflow_output returns the final context when the clause is empty.
    json output_on_error = spec().output_on_error.empty() ? final_context() : json::object();
    if (!spec().output_on_error.empty()) {
      auto evaluated = eval(spec().output_on_error, nullptr, final_context());
      if (evaluated.ok() && evaluated->is_object())
        output_on_error = *evaluated;
      else if (!evaluated.ok())
        msg = "Failed to evaluate expression in output-on-error! (output-on-error: '" +
              expr::py_str(spec().output_on_error) + "', exception: '" + evaluated.err().message +
              "' Cause: '" + msg + "'";
    }
    if (msg_opt || !msg.empty())
      msg_opt = msg;
    set_wf_state(state::error, msg_opt);
    // The output's "result" is cut so that the output fits the size limit.
    std::int64_t total = limit_kb() * 1024;
    auto on_error_length = static_cast<std::int64_t>(expr::py_str(output_on_error).size());
    std::string result =
      on_error_length < total ? cut_text(msg, total - on_error_length) : cut_text_by_kb(msg, limit_kb());
    json output = json{{"result", msg_opt ? json(result) : json(nullptr)}};
    merge_into(output, output_on_error);
    ex_.wf.output = output;
    d_.commands.push_back(cmd_completed{state::error, output, msg_opt});
  }

  void cancel_workflow(std::optional<std::string> msg) {
    if (is_completed(ex_.wf.st))
      return;
    control_subworkflows(ev_stop{state::cancelled, msg});
    set_wf_state(state::cancelled, msg);
    ex_.wf.output = json{{"result", msg ? json(cut_text_by_kb(*msg, limit_kb())) : json(nullptr)}};
    d_.commands.push_back(cmd_completed{state::cancelled, ex_.wf.output, msg});
  }

  void check_and_complete() {
    if (is_paused_or_completed(ex_.wf.st))
      return;
    for (const auto& t : ex_.tasks)
      if (is_incomplete(t.st))
        return;
    if (has_backlog())
      return;
    std::vector<std::string> cancelled, failed;
    bool errors_handled = true;
    for (const auto& t : sorted_by_name()) {
      if (t->st == state::cancelled)
        cancelled.push_back(t->name);
      if (t->st == state::error) {
        if (is_reverse() || !t->error_handled)
          errors_handled = false;
      }
    }
    if (!cancelled.empty()) {
      std::string list;
      for (const auto& n : cancelled)
        list += (list.empty() ? "" : ", ") + n;
      cancel_workflow("Cancelled tasks: " + list);
    } else if (errors_handled) {
      succeed_workflow(std::nullopt);
    } else {
      fail_workflow(fail_info_message());
    }
  }

  std::vector<const task_execution*> sorted_by_name() const {
    std::vector<const task_execution*> out;
    for (const auto& t : ex_.tasks)
      out.push_back(&t);
    std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return out;
  }

  bool has_on_error_clause(const std::string& task_name) const {
    const dsl::task_spec* ts = task_spec_of(task_name);
    if (!ts)
      return false;
    if (ts->on_error && !ts->on_error->next.empty())
      return true;
    const auto* d = defaults();
    return !(ts->on_error) && d && d->on_error && !d->on_error->next.empty();
  }

  std::string fail_info_message() const {
    std::vector<const task_execution*> failed;
    for (const auto* t : sorted_by_name())
      if (t->st == state::error && (is_reverse() || !has_on_error_clause(t->name)))
        failed.push_back(t);
    std::string names;
    for (const auto* t : failed)
      names += (names.empty() ? "" : ", ") + t->name;
    std::string msg = "Failure caused by error in tasks: " + names + "\n";
    for (const auto* t : failed) {
      msg += "\n  " + t->name + " [task_ex_id=" + t->id + "] -> " +
             (t->state_info ? *t->state_info : "None") + "\n";
      int i = 0;
      for (const auto& id : t->executions) {
        auto it = ex_.actions.find(id);
        if (it == ex_.actions.end())
          continue;
        const auto& a = it->second;
        if (a.st == state::error) {
          json out =
            a.output.is_object() && a.output.contains("result") ? a.output["result"] : json("Unknown");
          msg += std::string("    [") + (a.is_workflow ? "wf_ex_id=" : "action_ex_id=") + a.id +
                 ", idx=" + std::to_string(i) + "]: " + expr::py_str(out) + "\n";
        }
        ++i;
      }
    }
    return msg;
  }

  // ---- backlog (commands held while paused) --------------------------------

  bool has_backlog() const {
    const auto& rc = ex_.wf.runtime_context;
    return rc.contains("backlog_commands") && !rc["backlog_commands"].empty();
  }

  void save_to_backlog(const json& cmd) {
    ex_.wf.runtime_context["backlog_commands"].push_back(cmd);
    touch_wf();
  }

  void run_backlog() {
    if (!has_backlog())
      return;
    json backlog = ex_.wf.runtime_context["backlog_commands"];
    ex_.wf.runtime_context.erase("backlog_commands");
    touch_wf();
    std::vector<next_command> cmds;
    for (const auto& c : backlog)
      cmds.push_back(next_command{c.value("name", ""), c.value("ctx", json::object()),
                                  c.value("params", json::object()), c.value("triggered_by", json::array()),
                                  c.value("handles_error", false)});
    dispatch(std::move(cmds));
  }

  // ---- starting tasks ------------------------------------------------------

  struct next_command {
    std::string name; ///< task name or engine command
    json ctx;
    json params;
    json triggered_by;
    bool handles_error = false;
  };

  /// Every task an on-* clause of `ts` (task-defaults included) can lead to.
  std::vector<std::string> transition_targets(const dsl::task_spec& ts) const {
    std::vector<std::string> out;
    for (const char* kind : {"on-success", "on-error", "on-complete"})
      if (auto c = effective_clause(ts, kind))
        for (const auto& tr : c->next)
          if (tr.target != ts.name && !dsl::is_engine_command(tr.target))
            out.push_back(tr.target);
    return out;
  }

  std::vector<std::string> start_task_names() const {
    std::set<std::string> targeted;
    for (const auto& t : spec().tasks)
      for (const auto& n : transition_targets(t))
        targeted.insert(n);
    std::vector<std::string> out;
    for (const auto& t : spec().tasks)
      if (!targeted.count(t.name))
        out.push_back(t.name);
    return out;
  }

  void start_direct() {
    std::vector<next_command> cmds;
    for (const auto& name : start_task_names())
      cmds.push_back(next_command{name, json::object(), json::object(), json(nullptr), false});
    dispatch(std::move(cmds));
  }

  std::vector<std::string> requires_of(const dsl::task_spec& ts) const {
    std::vector<std::string> req = ts.requires_;
    if (const auto* d = defaults())
      for (const auto& r : d->requires_)
        if (r != ts.name && std::find(req.begin(), req.end(), r) == req.end())
          req.push_back(r);
    return req;
  }

  /// The tasks the reverse workflow's target needs, itself included.
  std::set<std::string> reverse_closure() const {
    std::set<std::string> seen;
    std::vector<std::string> stack{ex_.wf.params.value("task_name", "")};
    while (!stack.empty()) {
      std::string n = stack.back();
      stack.pop_back();
      if (seen.count(n))
        continue;
      const dsl::task_spec* ts = task_spec_of(n);
      if (!ts)
        continue;
      seen.insert(n);
      for (const auto& r : requires_of(*ts))
        stack.push_back(r);
    }
    return seen;
  }

  void start_reverse() {
    std::string target = ex_.wf.params.value("task_name", "");
    if (!task_spec_of(target)) {
      fail_workflow("Invalid task name [name=" + target + "]");
      return;
    }
    run_ready_reverse_tasks();
  }

  void run_ready_reverse_tasks() {
    for (const auto& name : reverse_closure()) {
      if (ex_.last_task_named(name))
        continue;
      const dsl::task_spec* ts = task_spec_of(name);
      json ctx = json::object();
      bool ready = true;
      json triggered = json::array();
      for (const auto& r : requires_of(*ts)) {
        const task_execution* dep = ex_.last_task_named(r);
        if (!dep || dep->st != state::success) {
          ready = false;
          break;
        }
        merge_into(ctx, outbound_context(*dep));
        triggered.push_back(json{{"task_id", dep->id}, {"event", "on-success"}});
      }
      if (ready)
        run_task(*ts, ctx, triggered.empty() ? json(nullptr) : triggered);
    }
  }

  /// Runs next commands as Mistral's dispatcher does: noops dropped, a
  /// fail/succeed stops the batch, a pause keeps the rest in the backlog.
  void dispatch(std::vector<next_command> cmds) {
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      if (is_completed(ex_.wf.st))
        return;
      auto& c = cmds[i];
      if (ex_.wf.st == state::paused) {
        save_to_backlog(json{{"name", c.name},
                             {"ctx", c.ctx},
                             {"params", c.params},
                             {"triggered_by", c.triggered_by},
                             {"handles_error", c.handles_error}});
        continue;
      }
      if (c.name == "noop")
        continue;
      std::optional<std::string> msg;
      if (c.params.is_object() && c.params.contains("msg") && !c.params["msg"].is_null())
        msg = expr::py_str(c.params["msg"]);
      if (c.name == "fail") {
        fail_workflow(msg);
        return;
      }
      if (c.name == "succeed") {
        succeed_workflow(msg);
        return;
      }
      if (c.name == "pause") {
        set_wf_state(state::paused, msg);
        control_subworkflows(ev_pause{msg});
        continue;
      }
      const dsl::task_spec* ts = task_spec_of(c.name);
      if (!ts)
        continue;
      run_task(*ts, c.ctx, c.triggered_by);
    }
  }

  std::string join_key(const std::string& name) const { return "join-task-" + ex_.wf.id + "-" + name; }

  task_execution& new_task(const dsl::task_spec& ts, json in_ctx, state s) {
    task_execution t;
    t.id = env_.new_id();
    t.name = ts.name;
    t.type = ts.task_type();
    t.st = s;
    t.in_context = std::move(in_ctx);
    t.created_at = env_.now();
    ex_.tasks.push_back(std::move(t));
    task_execution& ref = ex_.tasks.back();
    touch(ref);
    return ref;
  }

  void run_task(const dsl::task_spec& ts, const json& in_ctx, const json& triggered_by) {
    if (!ts.join.is_null() && !is_reverse()) {
      run_join_task(ts, triggered_by);
      return;
    }
    task_execution& t = new_task(ts, in_ctx, state::idle);
    if (triggered_by.is_array())
      t.runtime_context["triggered_by"] = triggered_by;
    start_task(t.id, ts, announce::created);
  }

  /// `how`: `created` for a task made by this decision; a waiting join that
  /// fires is announced from WAITING (TASK_RESUMED, as Mistral's continue_task).
  void start_task(const std::string& task_id, const dsl::task_spec& ts, announce how = announce::change) {
    task_execution* t = ex_.find_task(task_id);
    set_task_state(*t, state::running, std::nullopt, how);
    // pause-before: hold the task IDLE and pause the workflow.
    auto pause_before = policy_bool(ts, "pause-before", *t);
    if (!pause_before.ok()) {
      force_fail(*t, pause_before.err().message);
      return;
    }
    if (*pause_before &&
        !t->runtime_context.value("pause_before_policy", json::object()).value("skip", false)) {
      set_task_state(*t, state::idle, std::string("Set by 'pause-before' policy"));
      set_wf_state(state::paused, std::nullopt);
      return;
    }
    start_task_body(*t, ts);
  }

  void start_task_body(task_execution& t, const dsl::task_spec& ts) {
    auto wait_before = policy_number(ts, "wait-before", t);
    if (!wait_before.ok()) {
      force_fail(t, "Failed to run task [error=" + wait_before.err().message +
                      ", wf=" + ex_.wf.workflow_name + ", task=" + ts.name + "]:\n");
      return;
    }
    for (const char* key : {"wait-after", "timeout", "concurrency"}) {
      auto checked = policy_number(ts, key, t);
      if (!checked.ok()) {
        force_fail(t, "Failed to run task [error=" + checked.err().message + ", wf=" + ex_.wf.workflow_name +
                        ", task=" + ts.name + "]:\n");
        return;
      }
    }
    if (*wait_before > 0) {
      set_task_state(t, state::delayed,
                     "Delayed by 'wait-before' policy [delay=" + number_text(*wait_before) + "]");
      d_.commands.push_back(cmd_schedule_timer{t.id, timer_kind::wait_before, *wait_before});
      return;
    }
    auto timeout = policy_number(ts, "timeout", t);
    if (timeout.ok() && *timeout > 0)
      d_.commands.push_back(cmd_schedule_timer{t.id, timer_kind::timeout, *timeout});
    schedule_actions(t, ts);
  }

  // ---- join ---------------------------------------------------------------

  std::vector<const dsl::task_spec*> inbound_specs(const std::string& name) const {
    std::vector<const dsl::task_spec*> out;
    for (const auto& t : spec().tasks) {
      auto targets = transition_targets(t);
      if (std::find(targets.begin(), targets.end(), name) != targets.end())
        out.push_back(&t);
    }
    return out;
  }

  bool routed_to(const task_execution& t, const std::string& name, std::string* event = nullptr) const {
    for (const auto& [n, ev] : t.next_tasks)
      if (n == name) {
        if (event)
          *event = ev;
        return true;
      }
    return false;
  }

  bool possible_route(const dsl::task_spec& ts, int depth = 0) const {
    if (depth > 50)
      return true;
    auto in = inbound_specs(ts.name);
    if (in.empty())
      return true;
    for (const auto* in_spec : in) {
      const task_execution* t = ex_.last_task_named(in_spec->name);
      if (!t) {
        if (possible_route(*in_spec, depth + 1))
          return true;
      } else if (!is_completed(t->st) || routed_to(*t, ts.name)) {
        return true;
      }
    }
    return false;
  }

  struct join_state {
    state st = state::waiting;
    std::optional<std::string> info;
    json triggered_by = json::array();
  };

  join_state join_logical_state(const dsl::task_spec& ts) const {
    auto in = inbound_specs(ts.name);
    std::vector<std::string> waiting, errors;
    json running_by = json::array(), error_by = json::array();
    int running = 0;
    for (const auto* in_spec : in) {
      const task_execution* t = ex_.last_task_named(in_spec->name);
      std::string ev;
      if (!t) {
        (possible_route(*in_spec) ? waiting : errors).push_back(in_spec->name);
      } else if (!is_completed(t->st)) {
        waiting.push_back(in_spec->name);
      } else if (routed_to(*t, ts.name, &ev)) {
        ++running;
        running_by.push_back(json{{"task_id", t->id}, {"event", ev}});
      } else {
        errors.push_back(in_spec->name);
        error_by.push_back(json{{"task_id", t->id}, {"event", "not triggered"}});
      }
    }
    int total = static_cast<int>(in.size());
    int needed = total;
    if (ts.join.is_string() && ts.join == "one")
      needed = 1;
    else if (ts.join.is_number_integer())
      needed = ts.join.get<int>();
    join_state s;
    if (running >= needed) {
      s.st = state::running;
      s.triggered_by = running_by;
    } else if (static_cast<int>(errors.size()) > total - needed) {
      s.st = state::error;
      s.info = "Failed by tasks: " + py_list_of_names(errors);
      s.triggered_by = error_by;
    } else {
      s.info = "Blocked by tasks: " + py_list_of_names(waiting);
    }
    return s;
  }

  void run_join_task(const dsl::task_spec& ts, const json& triggered_by) {
    task_execution* t = nullptr;
    for (auto& existing : ex_.tasks)
      if (existing.unique_key == join_key(ts.name))
        t = &existing;
    if (t && is_completed(t->st) && t->st != state::error) {
      // A later arrival at a join that already ran runs it again (RunExistingTask).
      t->processed = false;
      t->next_tasks.clear();
      t->has_next_tasks = false;
      set_task_state(*t, state::running, std::nullopt);
      t->finished_at.reset();
      schedule_actions(*t, ts);
      return;
    }
    if (t && t->st == state::error && join_logical_state(ts).st != state::error) {
      // A rerun upstream branch now reaches a join that had failed: it waits again.
      t->processed = false;
      t->error_handled = false;
      t->next_tasks.clear();
      t->has_next_tasks = false;
      t->finished_at.reset();
      set_task_state(*t, state::waiting, std::string("Task is waiting."));
    }
    if (t && t->st != state::waiting)
      return;
    if (!t) {
      task_execution& created = new_task(ts, json::object(), state::waiting);
      created.unique_key = join_key(ts.name);
      created.state_info = "Task is waiting.";
      t = &created;
    }
    (void)triggered_by;
    schedule_join_refresh(*t);
  }

  void schedule_join_refresh(const task_execution& t) {
    d_.commands.push_back(cmd_schedule_timer{t.id, timer_kind::join_refresh, 0});
  }

  void refresh_join(const std::string& task_id) {
    task_execution* t = ex_.find_task(task_id);
    if (!t || t->st != state::waiting)
      return;
    const dsl::task_spec* ts = task_spec_of(t->name);
    join_state s = join_logical_state(*ts);
    if (s.st == state::waiting)
      return; // Mistral keeps "Task is waiting." while blocked
    // The join fires: its inbound context is the merge of what arrived.
    json ctx = json::object();
    json published = json::object();
    for (const auto* in_spec : inbound_specs(ts->name)) {
      const task_execution* up = ex_.last_task_named(in_spec->name);
      if (up && is_completed(up->st) && routed_to(*up, ts->name)) {
        merge_into(published, up->published);
        merge_into(ctx, outbound_context(*up));
      }
    }
    merge_into(ctx, published);
    t->in_context = ctx;
    t->runtime_context["triggered_by"] = s.triggered_by;
    if (s.st == state::error) {
      // Mistral completes the waiting task at once: only TASK_FAILED is raised.
      set_task_state(*t, state::running, std::nullopt, announce::silent);
      complete_task(*t, state::error, s.info);
      return;
    }
    start_task(t->id, *ts);
  }

  void refresh_waiting_joins() {
    std::vector<std::string> ids;
    for (const auto& t : ex_.tasks)
      if (t.st == state::waiting && !t.unique_key.empty())
        ids.push_back(t.id);
    for (const auto& id : ids)
      schedule_join_refresh(*ex_.find_task(id));
  }

  // ---- policies -------------------------------------------------------------

  /// The policy value of `key`: the task's when it set it, else task-defaults', else null.
  json policy_raw(const dsl::task_spec& ts, const std::string& key) const {
    if (ts.policies.given.contains(key))
      return ts.policies.given[key];
    if (const auto* d = defaults())
      if (d->policies.given.contains(key))
        return d->policies.given[key];
    return nullptr;
  }

  static const char* policy_class(const std::string& key) {
    if (key == "wait-before")
      return "WaitBeforePolicy";
    if (key == "wait-after")
      return "WaitAfterPolicy";
    if (key == "timeout")
      return "TimeoutPolicy";
    if (key == "concurrency")
      return "ConcurrencyPolicy";
    return "RetryPolicy";
  }

  /// A numeric policy, evaluated and checked as Mistral's policy schemas do
  /// (an integer >= 0).
  result<double> policy_number(const dsl::task_spec& ts, const std::string& key, const task_execution& t) {
    json raw = policy_raw(ts, key);
    if (raw.is_null())
      return 0.0;
    auto v = eval(raw, &t, t.in_context);
    if (!v.ok())
      return std::move(v).err();
    if (v->is_null())
      return 0.0;
    if (!v->is_number_integer())
      return error(errc::invalid_input, std::string("Invalid data type in ") + policy_class(key) + ": " +
                                          expr::py_repr(*v) + " is not of type 'integer'\n");
    if (v->get<long long>() < 0)
      return error(errc::invalid_input, std::string("Invalid data type in ") + policy_class(key) + ": " +
                                          expr::py_repr(*v) + " is less than the minimum of 0\n");
    return v->get<double>();
  }

  result<bool> policy_bool(const dsl::task_spec& ts, const std::string& key, const task_execution& t) {
    json raw = policy_raw(ts, key);
    if (raw.is_null())
      return false;
    auto v = eval(raw, &t, t.in_context);
    if (!v.ok())
      return std::move(v).err();
    return expr::py_truthy(*v);
  }

  static std::string number_text(double v) {
    if (v == static_cast<double>(static_cast<long long>(v)))
      return std::to_string(static_cast<long long>(v));
    return expr::py_str(json(v));
  }

  std::string timeout_text(const task_execution& t, const dsl::task_spec& ts) {
    auto v = policy_number(ts, "timeout", t);
    return v.ok() ? number_text(*v) : "?";
  }

  // ---- actions --------------------------------------------------------------

  /// The task's input for one iteration; `item` holds with-items variables.
  result<json> action_input(task_execution& t, const dsl::task_spec& ts, const json* item) {
    const json& spec_input = ts.input;
    json input = json::object();
    if (spec_input.is_string() || (spec_input.is_object() && !spec_input.empty())) {
      auto v = eval_for_task(spec_input, t, item);
      if (!v.ok())
        return std::move(v).err();
      if (!v->is_object())
        return error(errc::invalid_input, "Wrong dynamic input for task: " + ts.name +
                                            ". Dict type is expected. Actual type: " + python_type(*v) +
                                            ". Actual value: " + expr::py_str(*v));
      input = std::move(*v);
    }
    // env.__actions.<action> supplies defaults that do not overwrite.
    static const json no_env = json::object();
    auto env_at = ex_.wf.params.is_object() ? ex_.wf.params.find("env") : ex_.wf.params.end();
    const json& env = env_at != ex_.wf.params.end() ? *env_at : no_env;
    if (env.is_object() && env.contains("__actions") && env["__actions"].contains(ts.action)) {
      const json& defs = env["__actions"][ts.action];
      for (auto it = defs.begin(); it != defs.end(); ++it)
        if (!input.contains(it.key()))
          input[it.key()] = it.value();
    }
    return input;
  }

  static std::string python_type(const json& v) {
    switch (v.type()) {
      case json::value_t::string: return "<class 'str'>";
      case json::value_t::array: return "<class 'list'>";
      case json::value_t::boolean: return "<class 'bool'>";
      case json::value_t::number_float: return "<class 'float'>";
      case json::value_t::null: return "<class 'NoneType'>";
      default: return v.is_number() ? "<class 'int'>" : "<class 'dict'>";
    }
  }

  /// Evaluates with-items into {var: list}; all lists the same length.
  result<std::vector<std::pair<std::string, json>>> with_items_values(task_execution& t,
                                                                      const dsl::task_spec& ts) {
    std::vector<std::pair<std::string, json>> out;
    json as_dict = json::object();
    std::size_t len = 0;
    bool first = true;
    for (const auto& wi : ts.with_items) {
      json items = wi.collection;
      if (items.is_string()) {
        auto v = eval_for_task(items, t);
        if (!v.ok())
          return std::move(v).err();
        items = std::move(*v);
      }
      if (items.is_object()) {
        json keys = json::array();
        for (auto it = items.begin(); it != items.end(); ++it)
          keys.push_back(it.key());
        items = keys;
      } else if (items.is_string()) {
        json chars = json::array();
        for (char c : items.get<std::string>())
          chars.push_back(std::string(1, c));
        items = chars;
      } else if (!items.is_array()) {
        return error(errc::invalid_input,
                     "Wrong input format for: {}. Iterable type is expected for each value.");
      }
      as_dict[wi.var] = items;
      if (first)
        len = items.size();
      else if (items.size() != len)
        return error(errc::invalid_input, "Wrong input format for: " + expr::py_str(as_dict) +
                                            ". All arrays must have the same length.");
      first = false;
      out.emplace_back(wi.var, items);
    }
    return out;
  }

  result<std::string> action_name(task_execution& t, const dsl::task_spec& ts) {
    std::string name = ts.action.empty() ? "std.noop" : ts.action;
    if (expr::has_expression(name)) {
      auto v = eval_for_task(json(name), t);
      if (!v.ok())
        return std::move(v).err();
      name = v->is_string() ? v->get<std::string>() : expr::py_str(*v);
    }
    return name;
  }

  /// Resolves an action name to the std action that finally runs, applying
  /// ad-hoc actions' input defaults and base-input on the way.
  result<resolved_action> resolve_action(const std::string& name, json input, int depth = 0) {
    if (depth > 20)
      return error(errc::invalid_input, "Action definition cycle detected: " + name);
    std::string wb = ex_.wf.runtime_context.value("wb_name", "");
    std::optional<dsl::action_spec> adhoc;
    std::string full_name = name;
    if (!wb.empty()) {
      adhoc = env_.find_adhoc_action(wb + "." + name, ex_.wf.workflow_namespace);
      if (adhoc)
        full_name = wb + "." + name;
    }
    if (!adhoc)
      adhoc = env_.find_adhoc_action(name, ex_.wf.workflow_namespace);
    if (!adhoc) {
      if (env_.is_std_action(name))
        return resolved_action{name, std::move(input), {}};
      return error(errc::invalid_input, "Failed to find action [action_name=" + name +
                                          ", namespace=" + ex_.wf.workflow_namespace + "]");
    }
    // Input defaults first, then base-input evaluated over the ad-hoc input.
    std::vector<std::string> missing, unexpected;
    for (const auto& p : adhoc->input)
      if (!input.contains(p.name)) {
        if (p.default_value)
          input[p.name] = *p.default_value;
        else
          missing.push_back(p.name);
      }
    for (auto it = input.begin(); it != input.end(); ++it) {
      bool known = false;
      for (const auto& p : adhoc->input)
        known = known || p.name == it.key();
      if (!known)
        unexpected.push_back(it.key());
    }
    if (!missing.empty() || !unexpected.empty()) {
      std::string msg = "Invalid input [name=" + full_name + ", class=mistral.actions.adhoc.AdHocAction";
      if (!missing.empty())
        msg += ", missing=" + py_list_of_names(missing);
      if (!unexpected.empty())
        msg += ", unexpected=" + py_list_of_names(unexpected);
      return error(errc::invalid_input, msg + "]");
    }
    // base-input sees the action's input over the workflow's context (ContextView(input, wf_ctx)).
    json env_layer = env_dict();
    expression_host host(ex_, nullptr);
    expr::eval_env e{
      expr::data_view(std::vector<const json*>{&input, &env_layer, &ex_.wf.context, &ex_.wf.input}),
      &host,
      {}};
    json base_input = adhoc->base_input;
    auto evaluated = expr::evaluate_recursively(base_input, e);
    if (!evaluated.ok())
      return std::move(evaluated).err();
    auto inner = resolve_action(adhoc->base, evaluated->is_object() ? *evaluated : json::object(), depth + 1);
    if (!inner.ok())
      return inner;
    if (!adhoc->output.is_null())
      inner->output_transforms.push_back(adhoc->output);
    return inner;
  }

  void schedule_actions(task_execution& t, const dsl::task_spec& ts) {
    if (!ts.with_items.empty()) {
      schedule_with_items(t, ts);
      return;
    }
    auto input = action_input(t, ts, nullptr);
    if (!input.ok()) {
      force_fail(t, "Failed to run task [error=" + input.err().message + ", wf=" + ex_.wf.workflow_name +
                      ", task=" + ts.name + "]:\n");
      return;
    }
    start_one(t, ts, std::move(*input), 0);
  }

  void start_one(task_execution& t, const dsl::task_spec& ts, json input, int index) {
    if (!ts.workflow.empty()) {
      start_subworkflow(t, ts, std::move(input), index);
      return;
    }
    auto name = action_name(t, ts);
    if (!name.ok()) {
      force_fail(t, "Failed to run task [error=" + name.err().message + ", wf=" + ex_.wf.workflow_name +
                      ", task=" + ts.name + "]:\n");
      return;
    }
    auto resolved = resolve_action(*name, input);
    action_execution a;
    a.id = env_.new_id();
    a.task_id = t.id;
    a.name = *name;
    a.input = input;
    a.index = index;
    a.created_at = env_.now();
    if (!resolved.ok()) {
      force_fail(t, "Failed to run task [error=" + resolved.err().message + ", wf=" + ex_.wf.workflow_name +
                      ", task=" + ts.name + "]:\n");
      return;
    }
    if (auto bad = env_.check_action_input(resolved->base, resolved->input)) {
      force_fail(t, "Failed to run task [error=" + *bad + ", wf=" + ex_.wf.workflow_name +
                      ", task=" + ts.name + "]:\n");
      return;
    }
    // Creating the action execution sets its input (Mistral's length validator).
    if (auto big = field_size_error("input", a.input, limit_kb())) {
      force_fail(t, "Failed to run task [error=" + *big + ", wf=" + ex_.wf.workflow_name +
                      ", task=" + ts.name + "]:\n");
      return;
    }
    a.is_sync = !action::is_async_action(resolved->base);
    t.executions.push_back(a.id);
    count_started(t, a);
    std::string id = a.id;
    touch(ex_.actions.emplace(id, std::move(a)).first->second);
    touch(t);
    auto safe = policy_bool_raw(ts.safe_rerun, defaults() ? defaults()->safe_rerun : json(nullptr), t);
    auto timeout = policy_number(ts, "timeout", t);
    json target = ts.target;
    if (target.is_string()) {
      auto v = eval(target, &t, t.in_context);
      target = v.ok() ? *v : json(nullptr);
    }
    d_.commands.push_back(cmd_run_action{id, t.id, resolved->base, resolved->input, target, safe,
                                         timeout.ok() ? static_cast<std::int64_t>(*timeout) : 0});
  }

  bool policy_bool_raw(const json& task_value, const json& default_value, const task_execution& t) {
    json raw = task_value.is_null() ? default_value : task_value;
    if (raw.is_null())
      return false;
    auto v = eval(raw, &t, t.in_context);
    return v.ok() && expr::py_truthy(*v);
  }

  void start_subworkflow(task_execution& t, const dsl::task_spec& ts, json input, int index) {
    std::string full_name = ts.workflow;
    {
      std::string wanted = ts.workflow;
      if (expr::has_expression(wanted)) {
        auto v = eval_for_task(json(wanted), t);
        if (v.ok() && v->is_string())
          wanted = *v;
      }
      if (!env_.workflow_exists(wanted, subworkflow_namespace(),
                                ex_.wf.runtime_context.value("wb_name", ""))) {
        force_fail(t, "Failed to run task [error=Failed to find workflow [name=" + wanted +
                        "] [namespace=" + subworkflow_namespace() + "], wf=" + ex_.wf.workflow_name +
                        ", task=" + ts.name + "]:\n");
        return;
      }
      // Mistral names the sub-workflow after the definition it found: "<wb>.<name>" first.
      std::string wb = ex_.wf.runtime_context.value("wb_name", "");
      full_name = !wb.empty() && env_.workflow_exists(wb + "." + wanted, subworkflow_namespace(), "")
                    ? wb + "." + wanted
                    : wanted;
    }
    action_execution link;
    link.id = env_.new_id();
    link.task_id = t.id;
    link.name = full_name;
    link.is_workflow = true;
    link.index = index;
    link.input = input;
    link.created_at = env_.now();
    t.executions.push_back(link.id);
    count_started(t, link);
    std::string id = link.id;
    touch(ex_.actions.emplace(id, std::move(link)).first->second);
    touch(t);
    json params = json::object();
    params["root_execution_id"] = ex_.wf.root_execution_id ? *ex_.wf.root_execution_id : ex_.wf.id;
    params["task_execution_id"] = t.id;
    params["index"] = index;
    params["namespace"] = subworkflow_namespace();
    if (ex_.wf.params.contains("env"))
      params["env"] = ex_.wf.params["env"];
    if (ex_.wf.params.contains("notify"))
      params["notify"] = ex_.wf.params["notify"];
    std::string name = ts.workflow;
    if (expr::has_expression(name)) {
      auto v = eval(json(name), &t, t.in_context);
      if (v.ok() && v->is_string())
        name = *v;
    }
    d_.commands.push_back(
      cmd_start_subworkflow{id, t.id, name, subworkflow_namespace(), std::move(input), params});
  }

  /// Sub-workflows are looked up in the namespace the root execution was
  /// started in (params.namespace, passed down), not their parent's own.
  std::string subworkflow_namespace() const {
    const json& ns = ex_.wf.params.is_object() ? ex_.wf.params.value("namespace", json()) : json();
    return ns.is_string() ? ns.get<std::string>() : ex_.wf.workflow_namespace;
  }

  using item_lists = std::vector<std::pair<std::string, json>>;

  /// The with-items lists of `t`: as evaluated when it started (the items of
  /// one start are one evaluation, as when they all started at once), or
  /// evaluated again when forgotten (after a load, a rerun, an env change or
  /// a published global variable). Null when that failed the task.
  std::shared_ptr<const item_lists> items_of(task_execution& t, const dsl::task_spec& ts,
                                             bool fresh = false) {
    if (!fresh && t.cursor.values)
      return t.cursor.values;
    auto values = with_items_values(t, ts);
    if (!values.ok()) {
      force_fail(t, "Failed to run task [error=" + values.err().message + ", wf=" + ex_.wf.workflow_name +
                      ", task=" + ts.name + "]:\n");
      return nullptr;
    }
    t.cursor.values = std::make_shared<const item_lists>(std::move(*values));
    return t.cursor.values;
  }

  void schedule_with_items(task_execution& t, const dsl::task_spec& ts) {
    auto values = items_of(t, ts, true);
    if (!values)
      return;
    std::size_t count = values->empty() ? 0 : values->front().second.size();
    auto& rc = t.runtime_context;
    if (!rc.contains("with_items")) {
      auto concurrency = policy_number(ts, "concurrency", t);
      int conc = concurrency.ok() ? static_cast<int>(*concurrency) : 0;
      rc["with_items"] = json{{"count", count}, {"capacity", conc > 0 ? conc : static_cast<int>(count)}};
      if (conc > 0)
        rc["concurrency"] = conc;
      touch(t);
    }
    if (count == 0) {
      complete_task(t, state::success, std::nullopt);
      return;
    }
    schedule_next_items(t, ts, *values);
  }

  /// The cursor of `t`, counted from its executions when forgotten.
  task_execution::items_cursor& cursor_of(task_execution& t, std::size_t count) {
    auto& c = t.cursor;
    if (c.valid && c.started.size() == count)
      return c;
    auto values = std::move(c.values);
    c = task_execution::items_cursor{};
    c.values = std::move(values);
    c.started.assign(count, false);
    for (const auto& id : t.executions) {
      auto it = ex_.actions.find(id);
      if (it == ex_.actions.end() || !it->second.accepted)
        continue;
      auto i = static_cast<std::size_t>(it->second.index);
      if (i < count && !c.started[i]) {
        c.started[i] = true;
        ++c.started_count;
      }
    }
    while (c.next < count && c.started[c.next])
      ++c.next;
    c.checked = c.next;
    c.valid = true;
    return c;
  }

  result<json> item_input(task_execution& t, const dsl::task_spec& ts, const item_lists& values,
                          std::size_t i) {
    json item = json::object();
    for (const auto& [var, list] : values)
      item[var] = list[i];
    return action_input(t, ts, &item);
  }

  /// Starts the items that have room (all of them without `concurrency`), in
  /// index order, as many as machine_env::take_items lets this decision
  /// start; an `items` timer starts the others later. The inputs of all the
  /// items that have room are evaluated before any action starts, as Mistral
  /// does: those left for later once, when they first had room.
  void schedule_next_items(task_execution& t, const dsl::task_spec& ts, const item_lists& values) {
    auto& wi = t.runtime_context["with_items"];
    std::size_t count = wi.value("count", 0);
    int capacity = wi.value("capacity", 0);
    auto& cur = cursor_of(t, count);
    std::size_t wanted =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(capacity, 0)), count - cur.started_count);
    if (wanted == 0 && cur.started_count >= count) {
      // A rerun without reset whose items all succeeded: nothing runs again,
      // the task completes from the accepted results.
      bool all_done = true;
      for (const auto& id : t.executions) {
        auto it = ex_.actions.find(id);
        all_done =
          all_done && (it == ex_.actions.end() || !it->second.accepted || is_completed(it->second.st));
      }
      if (all_done) {
        on_with_items_action_complete(t, ts);
        return;
      }
    }
    std::size_t now = wanted == 0 ? 0 : std::min(wanted, env_.take_items(wanted));
    auto failed = [&](const error& e) {
      force_fail(t, "Failed to run task [error=" + e.message + ", wf=" + ex_.wf.workflow_name +
                      ", task=" + ts.name + "]:\n");
    };
    std::vector<std::pair<std::size_t, json>> batch;
    batch.reserve(now);
    std::size_t i = cur.next;
    for (; batch.size() < now && i < count; ++i) {
      if (cur.started[i])
        continue;
      auto input = item_input(t, ts, values, i);
      if (!input.ok())
        return failed(input.err());
      batch.emplace_back(i, std::move(*input));
    }
    const std::size_t checked_before = cur.checked;
    if (now < wanted) {
      // The items with room left for later: those below `checked` were
      // evaluated already (the batch's own among them do not count).
      std::size_t batch_checked = 0;
      for (const auto& b : batch)
        batch_checked += b.first < cur.checked;
      std::size_t covered = cur.unstarted_checked - batch_checked;
      bool evaluated = ts.input.is_string() || (ts.input.is_object() && !ts.input.empty());
      for (std::size_t j = std::max(i, cur.checked), more = wanted - now; covered < more && j < count;
           ++j, cur.checked = j) {
        if (cur.started[j])
          continue;
        if (evaluated)
          if (auto input = item_input(t, ts, values, j); !input.ok())
            return failed(input.err());
        ++covered;
        ++cur.unstarted_checked;
      }
      d_.commands.push_back(cmd_schedule_timer{t.id, timer_kind::items, 0});
    }
    wi["capacity"] = capacity - static_cast<int>(now);
    for (auto& [index, input] : batch) {
      start_one(t, ts, std::move(input), static_cast<int>(index));
      if (is_completed(t.st))
        return;
      cur.started[index] = true;
      ++cur.started_count;
      if (index < checked_before)
        --cur.unstarted_checked;
      while (cur.next < count && cur.started[cur.next])
        ++cur.next;
    }
    touch(t);
  }

  void complete_action(action_execution& a, const action::action_result& r) {
    switch (r.outcome) {
      case action::action_result::kind::success: {
        a.st = state::success;
        a.output = json{{"result", r.data}};
        break;
      }
      case action::action_result::kind::error:
        a.st = state::error;
        a.output = json{{"result", a.is_workflow ? r.data : r.error}};
        break;
      case action::action_result::kind::cancelled:
        a.st = state::cancelled;
        a.output = json{{"result", a.is_workflow ? r.data : r.error}};
        break;
    }
    touch(a);
  }

  void on_action_complete(task_execution& t, action_execution& a) {
    completing_action_ = a.name;
    const dsl::task_spec* ts = task_spec_of(t.name);
    if (!ts)
      return;
    if (a.st == state::success && !apply_output_transforms(t, *ts, a))
      return;
    if (!check_action_output(a, &t, true))
      return;
    if (ts->with_items.empty()) {
      std::optional<std::string> info;
      if (a.st != state::success) {
        json r = a.output.value("result", json(nullptr));
        if (a.is_workflow) // a sub-workflow's output: its "result" is the failure text
          r = r.is_object() ? r.value("result", json(nullptr)) : r;
        if (expr::py_truthy(r))
          info = expr::py_str(r);
      }
      complete_task(t, a.st, info);
      check_and_complete();
      return;
    }
    on_with_items_action_complete(t, *ts, &a);
    check_and_complete();
  }

  /// Applies an ad-hoc action's `output` to its result; false when that
  /// failed the task.
  bool apply_output_transforms(task_execution& t, const dsl::task_spec& ts, action_execution& a) {
    std::string wb = ex_.wf.runtime_context.value("wb_name", "");
    std::vector<json> transforms;
    std::string name = a.name;
    std::string full_name = a.name;
    for (int depth = 0; depth < 20; ++depth) {
      std::optional<dsl::action_spec> adhoc;
      if (!wb.empty()) {
        adhoc = env_.find_adhoc_action(wb + "." + name, ex_.wf.workflow_namespace);
        if (adhoc && depth == 0)
          full_name = wb + "." + name;
      }
      if (!adhoc)
        adhoc = env_.find_adhoc_action(name, ex_.wf.workflow_namespace);
      if (!adhoc)
        break;
      if (!adhoc->output.is_null())
        transforms.insert(transforms.begin(), adhoc->output);
      name = adhoc->base;
    }
    for (const auto& out : transforms) {
      json result = a.output.value("result", json(nullptr));
      expr::eval_env e{expr::data_view(result), nullptr, {}};
      auto v = expr::evaluate_recursively(out, e);
      if (!v.ok()) {
        a.st = state::error;
        a.output = nullptr; // the action has no usable result
        touch(a);
        force_fail(t, "Failed to complete action [error=" + v.err().message + ", action=" + full_name +
                        ", task=" + ts.name + "]:\n");
        return false;
      }
      a.output = json{{"result", *v}};
    }
    return true;
  }

  /// An action of `t` started: counted while the tally is up to date.
  static void count_started(task_execution& t, const action_execution& a) {
    auto& k = t.tally;
    if (!k.valid || k.counted + 1 != t.executions.size())
      return void(k.valid = false);
    ++k.counted;
    add_to_tally(k, a);
  }

  static void add_to_tally(task_execution::items_tally& k, const action_execution& a) {
    if (!a.accepted)
      return;
    ++k.accepted;
    if (is_completed(a.st))
      ++k.done;
    k.any_cancelled = k.any_cancelled || a.st == state::cancelled;
    k.any_error = k.any_error || a.st == state::error;
  }

  /// The with-items counts of `t` after `just_done` (an accepted action that
  /// was running until this event, or null) completed.
  const task_execution::items_tally& items_counts(task_execution& t, const action_execution* just_done) {
    auto& k = t.tally;
    if (k.valid && k.counted == t.executions.size() && just_done && just_done->accepted) {
      ++k.done;
      k.any_cancelled = k.any_cancelled || just_done->st == state::cancelled;
      k.any_error = k.any_error || just_done->st == state::error;
      return k;
    }
    k = task_execution::items_tally{};
    for (const auto& id : t.executions)
      if (auto it = ex_.actions.find(id); it != ex_.actions.end())
        add_to_tally(k, it->second);
    k.counted = t.executions.size();
    k.valid = true;
    return k;
  }

  void on_with_items_action_complete(task_execution& t, const dsl::task_spec& ts,
                                     const action_execution* just_done = nullptr) {
    auto& wi = t.runtime_context["with_items"];
    if (t.runtime_context.contains("concurrency"))
      wi["capacity"] = wi.value("capacity", 0) + 1;
    touch(t);
    const auto& k = items_counts(t, just_done);
    bool any_cancelled = k.any_cancelled, any_error = k.any_error;
    std::size_t accepted_done = k.done, accepted_total = k.accepted;
    std::size_t count = wi.value("count", 0);
    bool all_started = accepted_total >= count;
    if (any_cancelled || (all_started && accepted_done == accepted_total)) {
      if (any_cancelled)
        complete_task(t, state::cancelled, std::string("One or more actions was cancelled."));
      else if (any_error)
        complete_task(t, state::error, std::string("One or more actions had failed."));
      else
        complete_task(t, state::success, std::nullopt);
      return;
    }
    if (!all_started)
      if (auto values = items_of(t, ts))
        schedule_next_items(t, ts, *values);
  }

  // ---- task completion ------------------------------------------------------

  json outbound_context(const task_execution& t) const {
    json ctx = t.in_context.is_object() ? t.in_context : json::object();
    update_into(ctx, t.published);
    return ctx;
  }

  /// A publish spec as Mistral's PublishSpec holds it: null sections stay null.
  struct publish_parts {
    json branch;
    json global;
    /// PublishSpec.merge: sections of `other` merge into ours only where we have one.
    void merge(const publish_parts& other) {
      if (other.branch.is_object() && !other.branch.empty() && branch.is_object())
        merge_into(branch, other.branch);
      if (other.global.is_object() && !other.global.empty() && global.is_object())
        merge_into(global, other.global);
    }
  };

  /// DirectWorkflowTaskSpec.get_publish: publish / publish-on-error as the
  /// branch, the task's on-complete publish merged over it, and the
  /// on-success / on-error publish taking what was built as the last word.
  std::optional<publish_parts> publish_spec(const dsl::task_spec& ts, state st) const {
    std::optional<publish_parts> spec;
    if (st == state::success && ts.publish.is_object() && !ts.publish.empty())
      spec = publish_parts{ts.publish, nullptr};
    else if (st == state::error && ts.publish_on_error.is_object() && !ts.publish_on_error.empty())
      spec = publish_parts{ts.publish_on_error, nullptr};
    auto parts_of = [](const dsl::on_clause_spec& c) {
      return publish_parts{c.publish->branch, c.publish->global};
    };
    if (ts.on_complete && ts.on_complete->publish) {
      if (spec)
        spec->merge(parts_of(*ts.on_complete));
      else
        spec = parts_of(*ts.on_complete);
    }
    const std::optional<dsl::on_clause_spec>* clause = nullptr;
    if (st == state::success)
      clause = &ts.on_success;
    else if (st == state::error)
      clause = &ts.on_error;
    if (clause && *clause && (*clause)->publish) {
      publish_parts own = parts_of(**clause);
      if (spec)
        own.merge(*spec);
      return own;
    }
    return spec;
  }

  std::optional<dsl::on_clause_spec> effective_clause(const dsl::task_spec& ts,
                                                      const std::string& kind) const {
    const std::optional<dsl::on_clause_spec>* own = kind == "on-success" ? &ts.on_success
                                                    : kind == "on-error" ? &ts.on_error
                                                                         : &ts.on_complete;
    if (*own)
      return **own;
    const auto* d = defaults();
    if (!d)
      return std::nullopt;
    const std::optional<dsl::on_clause_spec>* def = kind == "on-success" ? &d->on_success
                                                    : kind == "on-error" ? &d->on_error
                                                                         : &d->on_complete;
    if (!*def)
      return std::nullopt;
    dsl::on_clause_spec c = **def;
    // A default transition to the task itself is dropped.
    c.next.erase(
      std::remove_if(c.next.begin(), c.next.end(), [&](const auto& tr) { return tr.target == ts.name; }),
      c.next.end());
    return c;
  }

  bool publish(task_execution& t, const dsl::task_spec& ts) {
    if (t.st != state::success && t.st != state::error)
      return true;
    auto spec = publish_spec(ts, t.st);
    if (!spec)
      return true;
    auto failed = [&](const error& e) {
      force_fail(t, completion_failure(e.message, t));
      return false;
    };
    if (spec->branch.is_object()) {
      auto v = eval(spec->branch, &t, t.in_context);
      if (!v.ok())
        return failed(v.err());
      if (auto big = field_size_error("published", *v, limit_kb()))
        return failed(error(errc::invalid_input, *big));
      t.published = *v;
    } else {
      t.published = nullptr; // Mistral evaluates the absent branch part to None
    }
    if (spec->global.is_object() && !spec->global.empty()) {
      auto v = eval(spec->global, &t, t.in_context);
      if (!v.ok())
        return failed(v.err());
      merge_into(ex_.wf.context, *v);
      for (auto& other : ex_.tasks) // with-items lists may read it
        other.cursor.values.reset();
      // Kept for the task's GET, which shows it as published_global.
      t.runtime_context[published_global_key] = *v;
      touch_wf();
    } else {
      t.runtime_context.erase(published_global_key);
    }
    touch(t);
    return true;
  }

  void complete_task(task_execution& t, state st, std::optional<std::string> info) {
    if (is_completed(t.st))
      return;
    const dsl::task_spec* ts = task_spec_of(t.name);
    if (!ts)
      return;
    set_task_state(t, st, std::move(info));
    if (!publish(t, *ts))
      return;
    if (!json_truthy_policy(ts->keep_result, t)) {
      for (const auto& id : t.executions) {
        auto it = ex_.actions.find(id);
        if (it != ex_.actions.end() && !it->second.is_workflow) {
          it->second.output = json::object();
          touch(it->second);
        }
      }
    }
    if (!after_task_complete_policies(t, *ts))
      return; // delayed for wait-after or retry
    after_completion(t);
  }

  bool json_truthy_policy(const json& raw, const task_execution& t) {
    if (raw.is_boolean())
      return raw.get<bool>();
    if (raw.is_null())
      return true;
    auto v = eval(raw, &t, t.in_context);
    return !v.ok() || expr::py_truthy(*v);
  }

  /// wait-after, fail-on and retry, in Mistral's order. False when the task
  /// was delayed (its completion continues on a timer).
  bool after_task_complete_policies(task_execution& t, const dsl::task_spec& ts) {
    // wait-after
    auto& rc = t.runtime_context;
    bool skip_wait_after = rc.contains("wait_after_policy") && rc["wait_after_policy"].value("skip", false);
    if (!skip_wait_after) {
      auto wait_after = policy_number(ts, "wait-after", t);
      if (wait_after.ok() && *wait_after > 0 && t.st != state::cancelled) {
        rc["wait_after_policy"] =
          json{{"end_state", to_string(t.st)},
               {"end_state_info", t.state_info ? json(*t.state_info) : json(nullptr)}};
        state from = t.st;
        t.st = state::delayed;
        t.state_info = "Delayed by 'wait-after' policy [delay=" + number_text(*wait_after) + "]";
        t.finished_at.reset();
        touch(t);
        notify_task(t, from);
        d_.commands.push_back(cmd_schedule_timer{t.id, timer_kind::wait_after, *wait_after});
        return false;
      }
    }
    // fail-on
    if (t.st == state::success && !policy_raw(ts, "fail-on").is_null()) {
      // TaskPolicy.after_task_complete evaluates over get_expression_context():
      // the task, env, an empty layer, the inbound context, the workflow's.
      const json empty = json::object();
      auto v = eval_for_task(policy_raw(ts, "fail-on"), t, nullptr, &empty);
      if (!v.ok()) {
        force_fail(t, completion_failure(v.err().message, t));
        return false;
      }
      if (expr::py_truthy(*v)) {
        t.st = state::error;
        t.state_info = "Failed by 'fail-on' policy";
        touch(t);
        notify_task(t, state::success);
        if (auto spec = publish_spec(ts, state::error); spec && spec->branch.is_object()) {
          auto p = eval(spec->branch, &t, t.in_context);
          if (p.ok())
            t.published = *p;
        }
      }
    }
    return !retry(t, ts);
  }

  /// Mistral's RetryPolicy.after_task_complete; true when the task retries.
  bool retry(task_execution& t, const dsl::task_spec& ts) {
    std::optional<dsl::retry_spec> r = ts.policies.given.contains("retry") ? ts.policies.retry : std::nullopt;
    if (!ts.policies.given.contains("retry") && defaults() && defaults()->policies.given.contains("retry"))
      r = defaults()->policies.retry;
    if (!r)
      return false;
    if (!is_completed(t.st) || t.st == state::cancelled)
      return false;
    json ctx = outbound_context(t);
    auto eval_num = [&](const json& v) -> double {
      if (v.is_number())
        return v.get<double>();
      auto e = eval(v, &t, ctx);
      return e.ok() && e->is_number() ? e->get<double>() : 0;
    };
    bool has_continue = !r->continue_on.is_null();
    bool continue_on = false, break_on = false;
    if (has_continue) {
      auto v = eval_for_task(r->continue_on, t, nullptr, &ctx);
      if (!v.ok()) {
        force_fail(t, completion_failure(v.err().message, t));
        return true;
      }
      continue_on = expr::py_truthy(*v);
    }
    if (!r->break_on.is_null()) {
      auto v = eval_for_task(r->break_on, t, nullptr, &ctx);
      if (!v.ok()) {
        force_fail(t, completion_failure(v.err().message, t));
        return true;
      }
      break_on = expr::py_truthy(*v);
    }
    auto& rc = t.runtime_context;
    json policy = rc.value("retry_task_policy", json::object());
    int retry_no = policy.value("retry_no", 0);
    policy.erase("retry_no");
    rc["retry_task_policy"] = policy;
    touch(t);
    bool retries_remain = retry_no < static_cast<int>(eval_num(r->count));
    bool stop_continue = (t.st == state::success && !has_continue) || (has_continue && !continue_on);
    bool break_triggered = t.st == state::error && break_on;
    if (!retries_remain || break_triggered || stop_continue)
      return false;
    for (const auto& id : t.executions) {
      auto it = ex_.actions.find(id);
      if (it != ex_.actions.end() && it->second.accepted) {
        it->second.accepted = false;
        touch(it->second);
      }
    }
    forget_counts(t);
    policy["retry_no"] = retry_no + 1;
    rc["retry_task_policy"] = policy;
    if (rc.contains("with_items")) {
      rc.erase("with_items");
    }
    double delay = eval_num(r->delay);
    t.finished_at.reset();
    if (!is_reverse() && !ts.join.is_null()) {
      // A join cannot run again as is: it waits and its state is refreshed.
      state from = t.st;
      t.st = state::waiting;
      t.state_info = "Delayed by 'retry' policy [delay=" + number_text(delay) + "]";
      touch(t);
      notify_task(t, from);
      d_.commands.push_back(cmd_schedule_timer{t.id, timer_kind::retry, delay});
      return true;
    }
    state from = t.st;
    t.st = state::delayed;
    t.state_info = "Delayed by 'retry' policy [delay=" + number_text(delay) + "]";
    touch(t);
    notify_task(t, from);
    d_.commands.push_back(cmd_schedule_timer{t.id, timer_kind::retry, delay});
    return true;
  }

  /// Next tasks, next_tasks bookkeeping, error handling, dispatch.
  void after_completion(task_execution& t) {
    std::vector<next_command> cmds;
    if (is_reverse()) {
      t.processed = !(ex_.wf.st == state::paused);
      touch(t);
      if (ex_.wf.st == state::paused)
        return;
      if (t.st == state::success)
        run_ready_reverse_tasks();
      return;
    }
    auto found = find_next(t);
    if (!found.ok()) {
      force_fail(t, completion_failure(found.err().message, t));
      return;
    }
    cmds = std::move(*found);
    t.next_tasks.clear();
    for (const auto& c : cmds) {
      if (dsl::is_engine_command(c.name))
        continue;
      std::string ev = c.triggered_by.is_array() && !c.triggered_by.empty()
                         ? c.triggered_by[0].value("event", "")
                         : std::string();
      t.next_tasks.emplace_back(c.name, ev);
    }
    t.has_next_tasks = !t.next_tasks.empty();
    if (t.st == state::error) {
      t.error_handled = false;
      for (const auto& c : cmds)
        t.error_handled = t.error_handled || c.handles_error;
    }
    touch(t);
    if (ex_.wf.st == state::paused)
      return;
    t.processed = true;
    dispatch(std::move(cmds));
    refresh_waiting_joins();
  }

  result<std::vector<next_command>> find_next(const task_execution& t) {
    std::vector<next_command> out;
    json ctx = outbound_context(t);
    const dsl::task_spec* ts = task_spec_of(t.name);
    auto add = [&](const std::optional<dsl::on_clause_spec>& c, const char* event) -> status {
      if (!c)
        return ok_v;
      for (const auto& tr : c->next) {
        if (!tr.condition.empty()) {
          auto ok = eval_condition(tr.condition, &t, ctx);
          if (!ok.ok())
            return std::move(ok).err();
          if (!*ok)
            continue;
        }
        json params = tr.params;
        if (params.is_object() && !params.empty()) {
          auto v = eval(params, &t, ctx);
          if (!v.ok())
            return std::move(v).err();
          params = *v;
        }
        json triggered = json::array({json{{"task_id", t.id}, {"event", event}}});
        out.push_back(next_command{tr.target, ctx, params, triggered, std::string(event) == "on-error"});
      }
      return ok_v;
    };
    if (t.st == state::error)
      if (auto s = add(effective_clause(*ts, "on-error"), "on-error"); !s.ok())
        return std::move(s).err();
    if (t.st == state::success)
      if (auto s = add(effective_clause(*ts, "on-success"), "on-success"); !s.ok())
        return std::move(s).err();
    if (is_completed(t.st) && t.st != state::cancelled)
      if (auto s = add(effective_clause(*ts, "on-complete"), "on-complete"); !s.ok())
        return std::move(s).err();
    return out;
  }

  std::int64_t limit_kb() const { return env_.field_size_limit_kb(); }

  /// An oversized action output: Mistral's action_handler.on_action_complete
  /// fails the action (its output cut to the limit) and force-fails the task.
  /// False when it did.
  bool check_action_output(action_execution& a, task_execution* t, bool fail_task) {
    if (a.is_workflow) // WorkflowAction.complete sets nothing
      return true;
    auto big = field_size_error("output", a.output, limit_kb());
    if (!big)
      return true;
    std::string msg = "Failed to complete action [error=" + *big + ", action=" + a.name +
                      ", task=" + (t ? t->name : std::string("None")) + "]:\n";
    a.st = state::error;
    a.accepted = false; // complete() raised before accepting the result
    a.output = json{{"result", cut_text_by_kb(msg, limit_kb())}};
    touch(a);
    if (t)
      forget_counts(*t);
    if (fail_task && t)
      force_fail(*t, msg);
    return false;
  }

  /// A structural error: the task fails and so does the workflow at once.
  void force_fail(task_execution& t, const std::string& msg) {
    set_task_state(t, state::error, msg);
    t.processed = true;
    touch(t);
    fail_workflow(msg);
  }

  /// "Failed to ..." prefix of a structural error found while completing a task.
  std::string completion_failure(const std::string& what, const task_execution& t) const {
    if (!completing_action_.empty())
      return "Failed to handle action completion [error=" + what + ", wf=" + ex_.wf.workflow_name +
             ", task=" + t.name + ", action=" + completing_action_ + "]:\n";
    return "Failed to complete task [error=" + what + ", wf=" + ex_.wf.workflow_name + ", task=" + t.name +
           "]:\n";
  }

  execution& ex_;
  machine_env& env_;
  decision d_;
  std::string completing_action_; ///< the action whose completion is being handled, if any
};

} // namespace

decision decide(execution& ex, const event& ev, machine_env& env) {
  machine m(ex, env);
  return m.run(ev);
}

// The input checks live in dsl/ (one implementation); these keep the
// engine's string-typed signatures.
std::optional<std::string> check_workflow_input(const dsl::workflow_spec& spec, const json& input) {
  auto bad = dsl::check_workflow_input(spec, input);
  return bad ? std::optional<std::string>(bad->message) : std::nullopt;
}

void drop_repeated_timers(std::vector<command>& commands) {
  std::set<std::tuple<std::string, timer_kind, double>> seen;
  std::erase_if(commands, [&](const command& c) {
    const auto* t = std::get_if<cmd_schedule_timer>(&c);
    return t && !seen.emplace(t->task_id, t->kind, t->delay_seconds).second;
  });
}

json complete_workflow_input(const dsl::workflow_spec& spec, const json& input) {
  return dsl::input_with_defaults(spec, input);
}

json task_result(const execution& ex, const task_execution& t) {
  std::vector<const action_execution*> execs;
  for (const auto& id : t.executions) {
    auto it = ex.actions.find(id);
    if (it != ex.actions.end() && it->second.accepted && !it->second.output.is_null())
      execs.push_back(&it->second);
  }
  std::stable_sort(execs.begin(), execs.end(), [](auto* a, auto* b) { return a->index < b->index; });
  json results = json::array();
  for (const auto* a : execs)
    results.push_back(a->output.is_object() && a->output.contains("result") ? a->output["result"]
                                                                            : json(nullptr));
  bool with_items = false;
  if (ex.spec)
    if (const auto* ts = ex.spec->find_task(t.name))
      with_items = !ts->with_items.empty();
  if (with_items)
    return results;
  return results.size() == 1 ? results[0] : results;
}

} // namespace mistral::engine

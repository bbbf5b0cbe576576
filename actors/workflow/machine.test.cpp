#include "actors/workflow/machine.hpp"

#include "dsl/expr/py_value.hpp"
#include "dsl/parser.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <functional>

using namespace mistral;
using namespace mistral::engine;

namespace {

class fake_env final : public machine_env {
public:
  timestamp now() const override { return 1000000 * ++clock_; }
  std::string new_id() override { return "id-" + std::to_string(++ids_); }
  std::optional<dsl::action_spec> find_adhoc_action(const std::string&, const std::string&) const override {
    return std::nullopt;
  }
  bool is_std_action(const std::string& name) const override { return name.rfind("std.", 0) == 0; }
  std::int64_t field_size_limit_kb() const override { return limit_kb; }
  std::size_t take_items(std::size_t wanted) override {
    std::size_t n = std::min(wanted, items_left);
    items_left -= n;
    return n;
  }

  std::int64_t limit_kb = 1024; ///< [engine] execution_field_size_limit_kb
  /// The with-items items one decision may start ([engine] with_items_per_commit).
  std::size_t items_per_decision = SIZE_MAX;
  std::size_t items_left = SIZE_MAX;

private:
  mutable long clock_ = 0;
  int ids_ = 0;
};

/// What the scripted executor answers for an action.
using script = std::function<action::action_result(const cmd_run_action&)>;

action::action_result std_behaviour(const cmd_run_action& c) {
  if (c.action == "std.echo")
    return action::action_result::ok(c.input.value("output", json(nullptr)));
  if (c.action == "std.fail")
    return action::action_result::failed(
      c.input.value("error_data", json("Fail action expected exception.")));
  return action::action_result::ok(nullptr);
}

/// Runs a workflow to quiescence: actions answer at once, timers fire at once.
struct run {
  execution ex;
  fake_env env;
  std::vector<std::string> ran; ///< task names in the order their actions ran

  std::size_t most_started = 0; ///< the most actions one decision started
  int item_timers = 0;          ///< `items` timers fired

  run(const std::string& yaml, json input = json::object(), json params = json::object(),
      script answer = std_behaviour, std::int64_t limit_kb = 1024,
      std::size_t items_per_decision = SIZE_MAX) {
    env.limit_kb = limit_kb;
    env.items_per_decision = items_per_decision;
    auto specs = dsl::validate_workflows(yaml);
    REQUIRE_MESSAGE(specs.ok(), (specs.ok() ? "" : specs.err().message));
    ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
    ex.wf.id = "wf-1";
    ex.wf.workflow_name = ex.spec->name;
    ex.wf.input = complete_workflow_input(*ex.spec, input);
    ex.wf.params = params;
    answer_ = answer;
    feed(ev_start{});
  }

  /// Applies `first` and everything it leads to.
  void feed(event first) {
    const script& answer = answer_;
    std::deque<event> events{std::move(first)};
    int guard = 0;
    while (!events.empty() && ++guard < 10000) {
      event ev = events.front();
      events.pop_front();
      env.items_left = env.items_per_decision;
      auto d = decide(ex, ev, env);
      std::size_t started = 0;
      for (auto& c : d.commands) {
        if (auto* r = std::get_if<cmd_run_action>(&c)) {
          ran.push_back(ex.find_task(r->task_id)->name);
          events.push_back(ev_action_done{r->action_id, answer(*r)});
          ++started;
        } else if (auto* t = std::get_if<cmd_schedule_timer>(&c)) {
          if (t->kind != timer_kind::timeout)
            events.push_back(ev_timer{t->task_id, t->kind});
          item_timers += t->kind == timer_kind::items;
        }
      }
      most_started = std::max(most_started, started);
    }
  }

  script answer_;

  const task_execution& task(const std::string& name) const {
    const auto* t = ex.last_task_named(name);
    REQUIRE_MESSAGE(t, (std::string("no task ") + name));
    return *t;
  }
  int count(const std::string& name) const {
    int n = 0;
    for (const auto& t : ex.tasks)
      n += t.name == name;
    return n;
  }
};

} // namespace

TEST_CASE("a sequence publishes and the output is the final context") {
  run r(R"(version: '2.0'
wf:
  input:
    - name
    - greeting: Hello
  output:
    message: <% $.message %>
  tasks:
    compose:
      action: std.echo output="<% $.greeting %>, <% $.name %>!"
      publish:
        message: <% task().result %>
      on-success: finish
    finish:
      action: std.noop
)",
        json{{"name", "World"}});
  CHECK(to_string(r.ex.wf.st) == std::string("SUCCESS"));
  CHECK(r.ex.wf.output == json{{"message", "Hello, World!"}});
  CHECK(r.task("compose").published == json{{"message", "Hello, World!"}});
  CHECK(r.ran == std::vector<std::string>{"compose", "finish"});
}

TEST_CASE("an unhandled action error fails the workflow with Mistral's state_info") {
  run r(R"(version: '2.0'
wf:
  tasks:
    boom:
      action: std.fail error_data="intentional failure"
)");
  CHECK(r.ex.wf.st == state::error);
  REQUIRE(r.ex.wf.state_info);
  CHECK(r.ex.wf.state_info->rfind("Failure caused by error in tasks: boom\n", 0) == 0);
  CHECK(r.task("boom").state_info == std::optional<std::string>("intentional failure"));
  CHECK(r.ex.wf.output["result"] == *r.ex.wf.state_info);
}

TEST_CASE("on-error handles the error and the workflow succeeds") {
  run r(R"(version: '2.0'
wf:
  tasks:
    boom:
      action: std.fail
      on-error: recover
    recover:
      action: std.echo output="ok"
      publish:
        r: <% task().result %>
)");
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.task("boom").error_handled);
  CHECK(r.ex.wf.output == json{{"r", "ok"}});
}

TEST_CASE("the fail engine command fails the workflow with its message") {
  run r(R"(version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success:
        - fail msg="explicit failure"
        - b
    b:
      action: std.noop
)");
  CHECK(r.ex.wf.st == state::error);
  CHECK(r.ex.wf.state_info == std::optional<std::string>("explicit failure"));
  CHECK(r.count("b") == 0);
}

TEST_CASE("conditional transitions follow the published data") {
  run r(R"(version: '2.0'
wf:
  tasks:
    a:
      action: std.echo output=5
      publish:
        x: <% task().result %>
      on-success:
        - big: <% $.x > 3 %>
        - small: <% $.x <= 3 %>
    big:
      action: std.noop
    small:
      action: std.noop
)");
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.count("big") == 1);
  CHECK(r.count("small") == 0);
}

TEST_CASE("join all waits for every branch and merges their publishes") {
  run r(R"(version: '2.0'
wf:
  tasks:
    start:
      action: std.noop
      on-success: [a, b, c]
    a:
      action: std.echo output=1
      publish:
        a: <% task().result %>
      on-success: j
    b:
      action: std.echo output=2
      publish:
        b: <% task().result %>
      on-success: j
    c:
      action: std.echo output=3
      publish:
        c: <% task().result %>
      on-success: j
    j:
      join: all
      action: std.echo output=<% $.a + $.b + $.c %>
      publish:
        total: <% task().result %>
)");
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.count("j") == 1);
  // Compared as Python dicts: the key order does not matter.
  CHECK(nlohmann::json::parse(r.ex.wf.output.dump()) ==
        nlohmann::json::parse(R"({"a": 1, "b": 2, "c": 3, "total": 6})"));
}

TEST_CASE("with-items runs every item and the result is the list by index") {
  run r(R"(version: '2.0'
wf:
  input:
    - xs: [1, 2, 3]
  tasks:
    t:
      with-items: x in <% $.xs %>
      concurrency: 2
      action: std.echo output=<% $.x * 10 %>
      publish:
        out: <% task().result %>
)");
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.ex.wf.output == json{{"out", json::array({10, 20, 30})}});
  CHECK(r.task("t").runtime_context["with_items"]["count"] == 3);
}

TEST_CASE("an empty with-items list completes the task with an empty result") {
  run r(R"(version: '2.0'
wf:
  tasks:
    t:
      with-items: x in <% [] %>
      action: std.echo output=<% $.x %>
      publish:
        out: <% task().result %>
)");
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.ex.wf.output == json{{"out", json::array()}});
}

TEST_CASE("retry runs count plus one times and keeps only the last execution accepted") {
  run r(R"(version: '2.0'
wf:
  tasks:
    t:
      action: std.fail
      retry:
        count: 3
        delay: 1
)");
  CHECK(r.ex.wf.st == state::error);
  const auto& t = r.task("t");
  CHECK(t.executions.size() == 4);
  int accepted = 0;
  for (const auto& id : t.executions)
    accepted += r.ex.actions.at(id).accepted;
  CHECK(accepted == 1);
}

TEST_CASE("an expression error in publish force-fails the task and the workflow") {
  run r(R"(version: '2.0'
wf:
  tasks:
    t:
      action: std.noop
      publish:
        x: <% $.missing.key %>
      on-success: never
    never:
      action: std.noop
)");
  CHECK(r.ex.wf.st == state::error);
  CHECK(r.task("t").st == state::error);
  CHECK(r.count("never") == 0);
}

TEST_CASE("reverse workflows run the target's requirements first") {
  run r(R"(version: '2.0'
wf:
  type: reverse
  tasks:
    a:
      action: std.echo output="a"
      publish:
        a: <% task().result %>
    b:
      action: std.echo output="b"
      requires: [a]
      publish:
        b: <% $.a + 'b' %>
    unrelated:
      action: std.noop
)",
        json::object(), json{{"task_name", "b"}});
  CHECK_MESSAGE(r.ex.wf.st == state::success, r.ex.wf.state_info.value_or(""));
  CHECK(r.ran == std::vector<std::string>{"a", "b"});
  CHECK(r.ex.wf.output["b"] == "ab");
}

TEST_CASE("start input is checked with Mistral's message") {
  auto specs = dsl::validate_workflows(
    "version: '2.0'\nwf:\n  input: [a, b: 1]\n  tasks:\n    t:\n      action: std.noop\n");
  REQUIRE(specs.ok());
  const auto& spec = specs->workflows.front();
  CHECK(engine::check_workflow_input(spec, json{{"a", 1}}) == std::nullopt);
  CHECK(engine::check_workflow_input(spec, json::object()) ==
        std::optional<std::string>("Invalid input [name=wf, class=DirectWorkflowSpec, missing=['a']]"));
  CHECK(engine::check_workflow_input(spec, json{{"a", 1}, {"z", 2}}) ==
        std::optional<std::string>("Invalid input [name=wf, class=DirectWorkflowSpec, unexpected=['z']]"));
  CHECK(engine::complete_workflow_input(spec, json{{"a", 1}}) == json{{"a", 1}, {"b", 1}});
}

namespace {

/// Starts `yaml`'s first workflow by hand: the caller feeds the events.
execution started(const std::string& yaml, fake_env& env, decision& first) {
  auto specs = dsl::validate_workflows(yaml);
  REQUIRE(specs.ok());
  execution ex;
  ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  ex.wf.id = "wf-1";
  ex.wf.workflow_name = ex.spec->name;
  ex.wf.input = json::object();
  ex.wf.params = json::object();
  first = decide(ex, ev_start{}, env);
  return ex;
}

template <class C>
std::vector<C> commands_of(const decision& d) {
  std::vector<C> out;
  for (const auto& c : d.commands)
    if (auto* x = std::get_if<C>(&c))
      out.push_back(*x);
  return out;
}

} // namespace

TEST_CASE("a sub-workflow that pauses itself tells its parent task") {
  fake_env env;
  decision d;
  auto specs = dsl::validate_workflows(R"(version: '2.0'
sub:
  tasks:
    hold:
      pause-before: true
      action: std.noop
)");
  REQUIRE(specs.ok());
  execution ex;
  ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  ex.wf.id = "sub-1";
  ex.wf.task_execution_id = "parent-task";
  d = decide(ex, ev_start{}, env);
  CHECK(ex.wf.st == state::paused);
  auto notes = commands_of<cmd_notify_parent>(d);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].st == state::paused);
  d = decide(ex, ev_resume{}, env);
  notes = commands_of<cmd_notify_parent>(d);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].st == state::running);
}

TEST_CASE("a paused sub-workflow pauses its task, its workflow and the sibling sub-workflows") {
  fake_env env;
  decision d;
  execution ex = started(R"(version: '2.0'
wf:
  tasks:
    a:
      workflow: sub_a
    b:
      workflow: sub_b
)",
                         env, d);
  auto subs = commands_of<cmd_start_subworkflow>(d);
  REQUIRE(subs.size() == 2);
  std::string a_id = subs[0].execution_id, b_id = subs[1].execution_id;

  d = decide(ex, ev_action_update{a_id, state::paused}, env);
  CHECK(ex.wf.st == state::paused);
  CHECK(ex.find_task(subs[0].task_id)->st == state::paused);
  auto forwarded = commands_of<cmd_control_subworkflows>(d);
  REQUIRE(forwarded.size() == 1);
  CHECK(std::holds_alternative<ev_pause>(forwarded[0].what));
  CHECK(forwarded[0].execution_ids == std::vector<std::string>{a_id, b_id});

  // The sibling reports its own pause: its task follows, nothing else moves.
  d = decide(ex, ev_action_update{b_id, state::paused}, env);
  CHECK(ex.find_task(subs[1].task_id)->st == state::paused);
  CHECK(commands_of<cmd_control_subworkflows>(d).empty());

  // One child back to RUNNING is not enough while the other is paused.
  d = decide(ex, ev_action_update{a_id, state::running}, env);
  CHECK(ex.find_task(subs[0].task_id)->st == state::running);
  CHECK(ex.wf.st == state::paused);
  d = decide(ex, ev_action_update{b_id, state::running}, env);
  CHECK(ex.wf.st == state::running);
  CHECK(ex.find_task(subs[1].task_id)->st == state::running);

  // The children finish: the workflow completes as usual.
  decide(ex, ev_action_done{a_id, action::action_result::ok(json::object())}, env);
  decide(ex, ev_action_done{b_id, action::action_result::ok(json::object())}, env);
  CHECK(ex.wf.st == state::success);
}

TEST_CASE("sub-workflows are looked up in the namespace the root execution was started in") {
  fake_env env;
  auto specs = dsl::validate_workflows(R"(version: '2.0'
middle:
  tasks:
    call:
      workflow: lowest
)");
  REQUIRE(specs.ok());
  execution ex;
  ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  ex.wf.id = "middle-1";
  ex.wf.workflow_namespace = "";
  ex.wf.params = json{{"namespace", "abc"}};
  auto d = decide(ex, ev_start{}, env);
  auto subs = commands_of<cmd_start_subworkflow>(d);
  REQUIRE(subs.size() == 1);
  CHECK(subs[0].workflow_namespace == "abc");
  CHECK(subs[0].params["namespace"] == "abc");
}

TEST_CASE("a task started before a fail command still completes after the workflow failed") {
  run r(R"(version: '2.0'
wf:
  tasks:
    task1:
      action: std.echo output='1'
      on-complete:
        - task2
        - fail
    task2:
      action: std.echo output='2'
)");
  CHECK(r.ex.wf.st == state::error);
  CHECK(r.task("task2").st == state::success);
  CHECK(task_result(r.ex, r.task("task2")) == "2");
}

TEST_CASE("a failed join under a retry policy waits, is refreshed and fails again without running") {
  run r(R"(version: '2.0'
wf:
  task-defaults:
    retry:
      count: 1
      delay: 0
  tasks:
    task1:
      on-success: join_task
    task2:
      action: std.fail
      on-success: join_task
    join_task:
      join: all
)");
  CHECK(r.ex.wf.st == state::error);
  const auto& join = r.task("join_task");
  CHECK(join.st == state::error);
  CHECK(join.state_info == std::optional<std::string>("Failed by tasks: ['task2']"));
  CHECK(join.executions.empty());
  REQUIRE(r.ex.wf.state_info);
  CHECK(r.ex.wf.state_info->rfind("Failure caused by error in tasks: join_task, task2", 0) == 0);
}

TEST_CASE("rerunning the failed branch of a join lets the join run") {
  run r(R"(version: '2.0'
wf:
  tasks:
    start:
      action: std.noop
      on-success: [a, b]
    a:
      action: std.noop
      on-success: j
    b:
      action: std.echo output=<% env().v %>
      fail-on: <% task().result = 0 %>
      on-success: j
    j:
      join: all
      action: std.echo output="joined"
)",
        json::object(), json{{"env", {{"v", 0}}}});
  REQUIRE(r.ex.wf.st == state::error);
  CHECK(r.task("j").st == state::error);
  r.feed(ev_rerun{r.task("b").id, true, json{{"v", 1}}});
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.task("j").st == state::success);
  CHECK(task_result(r.ex, r.task("j")) == "joined");
  CHECK(r.count("j") == 1);
}

TEST_CASE("a with-items rerun without reset completes from the items that already succeeded") {
  run r(R"(version: '2.0'
wf:
  tasks:
    t1:
      with-items: x in [1, 2, 3]
      action: std.echo output=<% $.x %>
      fail-on: <% env().fail %>
)",
        json::object(), json{{"env", {{"fail", true}}}});
  REQUIRE(r.ex.wf.st == state::error);
  r.feed(ev_rerun{r.task("t1").id, false, json{{"fail", false}}});
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.task("t1").st == state::success);
  CHECK(r.task("t1").executions.size() == 3);
  CHECK(task_result(r.ex, r.task("t1")) == json::array({1, 2, 3}));
}

TEST_CASE("a publish clause with only global variables leaves the task's published empty (None)") {
  run r(R"(version: '2.0'
wf:
  tasks:
    task1:
      action: std.noop
      on-success:
        publish:
          global:
            g: 1
)");
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.task("task1").published.is_null());
  CHECK(r.ex.wf.context.value("g", 0) == 1);
}

TEST_CASE("a join is refreshed after the events already queued, so parallel arrivals reach its context") {
  run r(R"(version: '2.0'
wf:
  tasks:
    task1:
      action: std.noop
      publish:
        result1: 1
      on-complete: [task3]
    task2:
      action: std.noop
      publish:
        result2: 2
      on-complete: [task3]
    task3:
      join: one
      action: std.echo output="<% $.result1 %>-<% $.result2 %>"
)");
  CHECK(r.ex.wf.st == state::success);
  CHECK(task_result(r.ex, r.task("task3")) == "1-2");
  CHECK(r.count("task3") == 1);
}

TEST_CASE("a sub-workflow of a workbook is named after the definition found, <wb>.<name>") {
  fake_env env;
  auto specs = dsl::validate_workflows(R"(version: '2.0'
wf1:
  tasks:
    task1:
      workflow: wf2
)");
  REQUIRE(specs.ok());
  execution ex;
  ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  ex.wf.id = "wf-1";
  ex.wf.runtime_context = json{{"wb_name", "my_wb"}};
  auto d = decide(ex, ev_start{}, env);
  auto subs = commands_of<cmd_start_subworkflow>(d);
  REQUIRE(subs.size() == 1);
  CHECK(ex.actions.at(subs[0].execution_id).name == "my_wb.wf2");
}

TEST_CASE("fail-on sees the task's inbound context, not what the task published") {
  run r(R"(version: '2.0'
wf:
  tasks:
    t:
      action: std.echo output=1
      publish:
        mine: 1
      fail-on: <% $.get('mine') = 1 %>
)");
  CHECK(r.ex.wf.st == state::success);
}

TEST_CASE("a rerun inside a sub-workflow runs its parent task and workflow again") {
  fake_env env;
  decision d;
  execution parent = started(R"(version: '2.0'
wf:
  tasks:
    call:
      workflow: sub
      on-success: after
    after:
      action: std.noop
)",
                             env, d);
  auto subs = commands_of<cmd_start_subworkflow>(d);
  REQUIRE(subs.size() == 1);
  std::string child = subs[0].execution_id;
  decide(parent, ev_action_done{child, action::action_result::failed("boom")}, env);
  REQUIRE(parent.wf.st == state::error);

  d = decide(parent, ev_action_update{child, state::running, true}, env);
  CHECK(parent.wf.st == state::running);
  CHECK(!parent.wf.state_info);
  CHECK(parent.find_task(subs[0].task_id)->st == state::running);
  d = decide(parent, ev_action_done{child, action::action_result::ok(json::object())}, env);
  CHECK(parent.find_task(subs[0].task_id)->st == state::success);
  auto runs = commands_of<cmd_run_action>(d);
  REQUIRE(runs.size() == 1);
  decide(parent, ev_action_done{runs[0].action_id, action::action_result::ok(nullptr)}, env);
  CHECK(parent.wf.st == state::success);

  // The child side: rerunning its failed task tells the parent.
  auto specs = dsl::validate_workflows(R"(version: '2.0'
sub:
  tasks:
    t:
      action: std.fail
)");
  REQUIRE(specs.ok());
  execution sub;
  sub.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  sub.wf.id = child;
  sub.wf.task_execution_id = subs[0].task_id;
  d = decide(sub, ev_start{}, env);
  auto fails = commands_of<cmd_run_action>(d);
  REQUIRE(fails.size() == 1);
  decide(sub, ev_action_done{fails[0].action_id, action::action_result::failed("x")}, env);
  REQUIRE(sub.wf.st == state::error);
  d = decide(sub, ev_rerun{sub.tasks.front().id, true, json()}, env);
  auto notes = commands_of<cmd_notify_parent>(d);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].rerun);
}

// ---- [engine] execution_field_size_limit_kb (test_execution_fields_size_limitation.py) ----

namespace {

const std::string long_string(1024, 'A');

/// The Python test's workflow with std.echo for my_action: `__ACTION_INPUT__`
/// and `__TASK_PUBLISHED__` are replaced by 1024 characters when asked.
std::string limit_wf(bool long_input, bool long_published, const std::string& extra = "") {
  return "version: '2.0'\nwf:\n" + extra + "  tasks:\n    task1:\n      action: std.echo\n      input:\n" +
         "        output: '" + (long_input ? long_string : std::string("__ACTION_INPUT__")) + "'\n" +
         "      publish:\n        p_var: '" +
         (long_published ? long_string : std::string("__TASK_PUBLISHED__")) + "'\n";
}

/// my_action's answer: output_length characters, or a dict of that many
/// entries; as an error when asked.
script my_action(int output_length, bool output_dict = false, bool error = false) {
  return [=](const cmd_run_action&) {
    json result;
    if (output_dict) {
      result = json::object();
      for (int i = 0; i < output_length; ++i)
        result[std::to_string(i)] = "A";
    } else {
      result = std::string(static_cast<std::size_t>(output_length), 'A');
    }
    return error ? action::action_result::failed(result) : action::action_result::ok(result);
  };
}

} // namespace

TEST_CASE("field size: an oversized action input fails the task and the workflow as the task runs") {
  run r(limit_wf(true, false), json::object(), json::object(), std_behaviour, 0);
  const std::string msg =
    "Failed to run task [error=Field size limit exceeded [class=TaskExecution, field=input, "
    "size=1KB, limit=0KB], wf=wf, task=task1]:\n";
  CHECK(r.ex.wf.st == state::error);
  CHECK(r.ex.wf.state_info == std::optional<std::string>(msg));
  CHECK(r.task("task1").st == state::error);
  CHECK(r.task("task1").state_info == std::optional<std::string>(msg));
  CHECK(r.ran.empty()); // the action execution was never created
  CHECK(r.ex.actions.empty());
  // _fail_workflow cuts the output's result to the limit: 0 characters.
  CHECK(r.ex.wf.output == json{{"result", "..."}});
}

TEST_CASE("field size: an oversized action output fails the action, the task and the workflow") {
  run r(limit_wf(false, false), json::object(), json::object(), my_action(1024), 0);
  const std::string msg = "Failed to complete action [error=Field size limit exceeded [class=TaskExecution, "
                          "field=output, size=1KB, limit=0KB], action=std.echo, task=task1]:\n";
  CHECK(r.ex.wf.st == state::error);
  CHECK(r.ex.wf.state_info == std::optional<std::string>(msg));
  CHECK(r.task("task1").st == state::error);
  CHECK(r.task("task1").state_info == std::optional<std::string>(msg));
  REQUIRE(r.ex.actions.size() == 1);
  const auto& a = r.ex.actions.begin()->second;
  CHECK(a.st == state::error);
  CHECK(a.output == json{{"result", "..."}}); // Action.fail cuts its message by the limit
}

TEST_CASE("field size: an oversized publish fails the task while handling the action's completion") {
  run r(limit_wf(false, true), json::object(), json::object(), std_behaviour, 0);
  const std::string msg = "Failed to handle action completion [error=Field size limit exceeded "
                          "[class=TaskExecution, field=published, size=1KB, limit=0KB], wf=wf, task=task1, "
                          "action=std.echo]:\n";
  CHECK(r.ex.wf.st == state::error);
  CHECK(r.ex.wf.state_info == std::optional<std::string>(msg));
  CHECK(r.task("task1").st == state::error);
  CHECK(r.task("task1").state_info == std::optional<std::string>(msg));
  CHECK_FALSE(expr::py_truthy(r.task("task1").published)); // never set
}

TEST_CASE("field size: an oversized workflow output leaves the workflow SUCCESS with an empty output") {
  // Mistral sets SUCCESS first; setting the output raises and the forced
  // failure that follows finds the workflow already completed.
  run r(limit_wf(false, false, "  output:\n    out: '" + long_string + "'\n"), json::object(), json::object(),
        std_behaviour, 0);
  CHECK(r.ex.wf.st == state::success);
  CHECK_FALSE(r.ex.wf.state_info.has_value());
  CHECK(r.ex.wf.output == json::object());
  CHECK(r.task("task1").st == state::success);
}

TEST_CASE("field size: a negative limit lets long inputs, outputs and publishes through") {
  run r(limit_wf(true, true, "  output:\n    out: '" + long_string + "'\n"), json::object(), json::object(),
        std_behaviour, -1);
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.task("task1").published == json{{"p_var", long_string}});
  CHECK(r.ex.wf.output == json{{"out", long_string}});
  // The default limit (1024 KB) does as well.
  run d(limit_wf(true, true), json::object(), json::object(), my_action(1024));
  CHECK(d.ex.wf.st == state::success);
}

TEST_CASE("field size: task and workflow state_info are cut under 65536 characters") {
  run r(limit_wf(false, false), json::object(), json::object(), my_action(80000, true, true), -1);
  CHECK(r.ex.wf.st == state::error);
  const auto& t = r.task("task1");
  CHECK(t.st == state::error);
  REQUIRE(t.state_info);
  CHECK(t.state_info->size() == 65503); // 65500 characters and "..."
  CHECK(t.state_info->substr(65500) == "...");
  REQUIRE(r.ex.wf.state_info);
  CHECK(r.ex.wf.state_info->size() == 65503);
  CHECK(r.ex.wf.state_info->rfind("Failure caused by error in tasks: task1\n", 0) == 0);
}

TEST_CASE("field size: without a limit a failed workflow's output keeps the whole failure text") {
  run r(limit_wf(false, false), json::object(), json::object(), my_action(10000, true, true), -1);
  CHECK(r.ex.wf.st == state::error);
  CHECK(r.ex.wf.output["result"].get<std::string>().size() > 10000);
}

TEST_CASE("repeated timers of one task are dropped, other timers and commands kept in order") {
  std::vector<command> commands = {
    cmd_schedule_timer{"join", timer_kind::join_refresh, 0},
    cmd_run_action{"a1", "t1", "std.noop", json::object(), nullptr, false, 0},
    cmd_schedule_timer{"join", timer_kind::join_refresh, 0},
    cmd_schedule_timer{"join", timer_kind::retry, 0},
    cmd_schedule_timer{"other", timer_kind::join_refresh, 0},
    cmd_schedule_timer{"join", timer_kind::join_refresh, 5},
    cmd_schedule_timer{"join", timer_kind::join_refresh, 0},
  };
  drop_repeated_timers(commands);
  REQUIRE(commands.size() == 5);
  CHECK(std::holds_alternative<cmd_run_action>(commands[1]));
  const auto& retry = std::get<cmd_schedule_timer>(commands[2]);
  CHECK(retry.kind == timer_kind::retry);
  CHECK(std::get<cmd_schedule_timer>(commands[3]).task_id == "other");
  CHECK(std::get<cmd_schedule_timer>(commands[4]).delay_seconds == 5);
}

TEST_CASE("a fan-out of 200 into a join runs the join once over every branch's context") {
  std::string y = "version: '2.0'\nwf:\n  tasks:\n    start:\n      action: std.noop\n      on-success:\n";
  for (int i = 0; i < 200; ++i)
    y += "        - p" + std::to_string(i) + "\n";
  for (int i = 0; i < 200; ++i)
    y += "    p" + std::to_string(i) + ":\n      action: std.echo output=" + std::to_string(i) +
         "\n      publish:\n        v" + std::to_string(i) +
         ": <% task().result %>\n      on-success: [joiner]\n";
  y += "    joiner:\n      join: all\n      action: std.noop\n";
  run r(y);
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.count("joiner") == 1);
  CHECK(r.task("joiner").in_context["v0"] == 0);
  CHECK(r.task("joiner").in_context["v199"] == 199);
  CHECK(r.task("joiner").runtime_context["triggered_by"].size() == 200);
}

namespace {

/// The indices of the accepted executions of `t`, in creation order.
std::vector<int> item_order(const execution& ex, const task_execution& t) {
  std::vector<int> out;
  for (const auto& id : t.executions)
    if (const auto& a = ex.actions.at(id); a.accepted)
      out.push_back(a.index);
  return out;
}

const char* items_wf = R"(version: '2.0'
wf:
  input:
    - n: 25
  tasks:
    t:
      with-items: x in <% range($.n) %>
      action: std.echo output=<% $.x * 10 %>
      publish:
        out: <% task().result %>
      on-success: after
    after:
      action: std.noop
)";

/// The execution of `yaml` (its input defaults filled in) after ev_start.
execution started_with_input(const std::string& yaml, fake_env& env, decision& first) {
  auto specs = dsl::validate_workflows(yaml);
  REQUIRE(specs.ok());
  execution ex;
  ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  ex.wf.id = "wf-1";
  ex.wf.workflow_name = ex.spec->name;
  ex.wf.input = complete_workflow_input(*ex.spec, json::object());
  first = decide(ex, ev_start{}, env);
  return ex;
}

} // namespace

TEST_CASE("a with-items over more items than a decision may start starts them in chunks, in order") {
  run whole(items_wf);
  run chunked(items_wf, json::object(), json::object(), std_behaviour, 1024, 10);
  REQUIRE(chunked.ex.wf.st == state::success);
  CHECK(chunked.ex.wf.output == whole.ex.wf.output);
  CHECK(chunked.ex.wf.output["out"].size() == 25);
  CHECK(chunked.ex.wf.output["out"][24] == 240);
  CHECK(chunked.most_started == 10);
  CHECK(chunked.item_timers == 2);
  std::vector<int> in_order(25);
  for (int i = 0; i < 25; ++i)
    in_order[i] = i;
  CHECK(item_order(chunked.ex, chunked.task("t")) == in_order);
  CHECK(chunked.task("t").runtime_context == whole.task("t").runtime_context);
  CHECK(chunked.count("after") == 1);
}

TEST_CASE("with-items chunks keep concurrency: no more items run at once than it allows") {
  std::string y = std::string(items_wf);
  y.replace(y.find("      action: std.echo"), 0, "      concurrency: 4\n");
  // Actions answer one at a time, in the order they started.
  fake_env env;
  env.items_per_decision = 3;
  decision first;
  env.items_left = 3;
  execution ex = started_with_input(y, env, first);
  std::deque<event> events;
  std::size_t running = 0, most_running = 0;
  auto take = [&](decision& d) {
    for (auto& c : d.commands) {
      if (auto* r = std::get_if<cmd_run_action>(&c)) {
        events.push_back(ev_action_done{r->action_id, std_behaviour(*r)});
        most_running = std::max(most_running, ++running);
      } else if (auto* t = std::get_if<cmd_schedule_timer>(&c)) {
        events.push_front(ev_timer{t->task_id, t->kind}); // the next chunk before the answers
      }
    }
  };
  take(first);
  for (int guard = 0; !events.empty() && guard < 1000; ++guard) {
    event ev = events.front();
    events.pop_front();
    running -= std::holds_alternative<ev_action_done>(ev) ? 1 : 0;
    env.items_left = env.items_per_decision;
    auto d = decide(ex, ev, env);
    take(d);
  }
  REQUIRE(ex.wf.st == state::success);
  CHECK(most_running == 4);
  CHECK(ex.wf.output["out"].size() == 25);
  CHECK(ex.wf.output["out"][7] == 70);
}

TEST_CASE("an item input that fails beyond the first chunk fails the task before any item runs") {
  const char* y = R"(version: '2.0'
wf:
  tasks:
    t:
      with-items: x in <% [1, 2, 3, 4, 'abc', 6] %>
      action: std.echo output=<% int($.x) %>
)";
  run whole(y);
  run chunked(y, json::object(), json::object(), std_behaviour, 1024, 2);
  REQUIRE(whole.ex.wf.st == state::error);
  CHECK(chunked.ex.wf.st == state::error);
  CHECK(chunked.ex.actions.empty());
  CHECK(chunked.task("t").state_info == whole.task("t").state_info);
  CHECK(chunked.ex.wf.state_info == whole.ex.wf.state_info);
}

TEST_CASE("a with-items in chunks goes on starting its items while paused and stops once cancelled") {
  for (bool cancel : {false, true}) {
    CAPTURE(cancel);
    fake_env env;
    env.items_per_decision = 10;
    env.items_left = 10;
    decision first;
    execution ex = started_with_input(items_wf, env, first);
    REQUIRE(commands_of<cmd_run_action>(first).size() == 10);
    REQUIRE(commands_of<cmd_schedule_timer>(first).size() == 1);
    event control = cancel ? event(ev_stop{state::cancelled, std::nullopt}) : event(ev_pause{});
    env.items_left = 10;
    decide(ex, control, env);
    std::deque<event> events{ev_timer{ex.tasks[0].id, timer_kind::items}};
    for (const auto& r : commands_of<cmd_run_action>(first))
      events.push_back(ev_action_done{r.action_id, std_behaviour(r)});
    for (int guard = 0; !events.empty() && guard < 1000; ++guard) {
      event ev = events.front();
      events.pop_front();
      env.items_left = env.items_per_decision;
      auto d = decide(ex, ev, env);
      for (const auto& r : commands_of<cmd_run_action>(d))
        events.push_back(ev_action_done{r.action_id, std_behaviour(r)});
      for (const auto& t : commands_of<cmd_schedule_timer>(d))
        events.push_back(ev_timer{t.task_id, t.kind});
    }
    if (cancel) {
      CHECK(ex.wf.st == state::cancelled);
      CHECK(ex.actions.size() == 10);
      continue;
    }
    CHECK(ex.wf.st == state::paused);
    CHECK(ex.tasks[0].st == state::success);
    CHECK(ex.actions.size() == 25);
    env.items_left = 10;
    decide(ex, ev_resume{}, env);
    REQUIRE(ex.last_task_named("after"));
  }
}

TEST_CASE("a with-items rerun without reset in chunks starts only the items that failed, in order") {
  const char* y = R"(version: '2.0'
wf:
  tasks:
    t1:
      with-items: x in <% range(12) %>
      action: std.echo output=<% $.x %>
      fail-on: <% env().fail %>
)";
  run r(y, json::object(), json{{"env", {{"fail", true}}}}, std_behaviour, 1024, 5);
  REQUIRE(r.ex.wf.st == state::error);
  r.feed(ev_rerun{r.task("t1").id, false, json{{"fail", false}}});
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.task("t1").executions.size() == 12);
  CHECK(task_result(r.ex, r.task("t1")).size() == 12);
}

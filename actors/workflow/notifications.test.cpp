#include "actors/workflow/notifications.hpp"

#include "actors/workflow/machine.hpp"
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

private:
  mutable long clock_ = 0;
  int ids_ = 0;
};

using script = std::function<action::action_result(const cmd_run_action&)>;

action::action_result std_behaviour(const cmd_run_action& c) {
  if (c.action == "std.fail")
    return action::action_result::failed(json("Fail action expected exception."));
  return action::action_result::ok(nullptr);
}

const json webhook = json::array({json{{"type", "webhook"}, {"url", "http://127.0.0.1:1/hook"}}});

/// Runs a workflow as the engine would, keeping the notifications in the
/// order they were decided. std.async_noop actions are held (answered by
/// the test); every other action answers at once; timers fire at once.
struct notified_run {
  execution ex;
  fake_env env;
  std::vector<cmd_notify> notes;
  std::vector<cmd_run_action> held;
  std::vector<cmd_start_subworkflow> subs;
  script answer;

  notified_run(const std::string& yaml, json params, script a = std_behaviour) : answer(std::move(a)) {
    auto specs = dsl::validate_workflows(yaml);
    REQUIRE_MESSAGE(specs.ok(), (specs.ok() ? "" : specs.err().message));
    ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
    ex.wf.id = "wf-1";
    ex.wf.workflow_name = ex.spec->name;
    ex.wf.workflow_id = "def-1";
    ex.wf.input = complete_workflow_input(*ex.spec, json::object());
    ex.wf.params = std::move(params);
    feed(ev_start{});
  }

  void feed(event first) {
    std::deque<event> events{std::move(first)};
    int guard = 0;
    while (!events.empty() && ++guard < 10000) {
      event ev = events.front();
      events.pop_front();
      auto d = decide(ex, ev, env);
      for (auto& c : d.commands) {
        if (auto* r = std::get_if<cmd_run_action>(&c)) {
          if (r->action == "std.async_noop")
            held.push_back(*r);
          else
            events.push_back(ev_action_done{r->action_id, answer(*r)});
        } else if (auto* t = std::get_if<cmd_schedule_timer>(&c)) {
          if (t->kind != timer_kind::timeout)
            events.push_back(ev_timer{t->task_id, t->kind});
        } else if (auto* n = std::get_if<cmd_notify>(&c)) {
          notes.push_back(*n);
        } else if (auto* s = std::get_if<cmd_start_subworkflow>(&c)) {
          subs.push_back(*s);
        }
      }
    }
  }

  /// "<wf or task name> <event>" per notification, ids turned into names.
  std::vector<std::string> log() const {
    std::vector<std::string> out;
    for (const auto& n : notes) {
      std::string who = n.execution_id == ex.wf.id ? "wf" : ex.find_task(n.execution_id)->name;
      out.push_back(who + " " + n.event.value_or("None"));
    }
    return out;
  }
};

using lines = std::vector<std::string>;

const char* two_tasks = R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      on-success:
        - t2
    t2:
      action: std.noop
)";

} // namespace

TEST_CASE("a state change raises the event of Mistral's event map") {
  CHECK(task_event(std::nullopt, state::running) == "TASK_LAUNCHED");
  CHECK(task_event(state::delayed, state::running) == "TASK_LAUNCHED");
  CHECK(task_event(state::idle, state::running) == "TASK_RESUMED");
  CHECK(task_event(state::paused, state::running) == "TASK_RESUMED");
  CHECK(task_event(state::waiting, state::running) == "TASK_RESUMED");
  CHECK(task_event(state::error, state::running) == "TASK_RERUN");
  CHECK(task_event(state::running, state::success) == "TASK_SUCCEEDED");
  CHECK(task_event(state::success, state::error) == "TASK_FAILED");
  CHECK(task_event(state::running, state::cancelled) == "TASK_CANCELLED");
  CHECK(task_event(state::running, state::paused) == "TASK_PAUSED");
  CHECK_FALSE(task_event(state::running, state::delayed));
  CHECK_FALSE(task_event(state::running, state::waiting));
  CHECK_FALSE(task_event(state::running, state::idle));
  CHECK(workflow_event(state::idle, state::running) == "WORKFLOW_LAUNCHED");
  CHECK(workflow_event(state::running, state::running) == "WORKFLOW_LAUNCHED");
  CHECK(workflow_event(state::paused, state::running) == "WORKFLOW_RESUMED");
  CHECK(workflow_event(state::error, state::running) == "WORKFLOW_RERUN");
  CHECK(workflow_event(state::running, state::success) == "WORKFLOW_SUCCEEDED");
  CHECK(workflow_event(state::running, state::error) == "WORKFLOW_FAILED");
  CHECK(workflow_event(state::running, state::cancelled) == "WORKFLOW_CANCELLED");
  CHECK(workflow_event(state::running, state::paused) == "WORKFLOW_PAUSED");
}

TEST_CASE("event_types selects the publishers of an event and an empty filter takes every event") {
  json params = {
    {"notify",
     json::array({json{{"type", "webhook"}, {"url", "a"}, {"event_types", {"WORKFLOW_SUCCEEDED"}}},
                  json{{"type", "noop"}},
                  json{{"type", "webhook"}, {"url", "b"}, {"event_types", json::array()}}, "not a publisher",
                  json{{"type", "webhook"}, {"url", "c"}, {"event_types", "TASK_FAILED,TASK_RERUN"}}})}};
  auto urls = [](const json& ps) {
    std::vector<std::string> out;
    for (const auto& p : ps)
      out.push_back(p.value("url", p["type"].get<std::string>()));
    return out;
  };
  CHECK(urls(publishers_for(params, "WORKFLOW_SUCCEEDED")) == std::vector<std::string>{"a", "noop", "b"});
  CHECK(urls(publishers_for(params, "TASK_RERUN")) == std::vector<std::string>{"noop", "b", "c"});
  // Mistral's None event (a task going DELAYED, WAITING or IDLE) reaches the unfiltered ones.
  CHECK(urls(publishers_for(params, std::nullopt)) == std::vector<std::string>{"noop", "b"});
  CHECK_FALSE(has_publishers(json{{"notify", json::array()}}));
  CHECK_FALSE(has_publishers(json{{"notify", json{{"type", "noop"}}}}));
  CHECK_FALSE(has_publishers(json::object()));
}

TEST_CASE("a two-task workflow notifies in Mistral's order") {
  notified_run r(two_tasks, json{{"notify", webhook}});
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_SUCCEEDED", "t2 TASK_LAUNCHED",
                         "t2 TASK_SUCCEEDED", "wf WORKFLOW_SUCCEEDED"});
  for (const auto& n : r.notes)
    CHECK(n.publishers == webhook);
}

TEST_CASE("a notification carries Mistral's workflow and task fields") {
  notified_run r(two_tasks, json{{"notify", webhook}});
  REQUIRE(r.notes.size() == 6);
  const json& wf = r.notes.front().data;
  std::vector<std::string> keys;
  for (auto it = wf.begin(); it != wf.end(); ++it)
    keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"id", "name", "workflow_name", "workflow_namespace", "workflow_id",
                                         "state", "state_info", "project_id", "task_execution_id",
                                         "root_execution_id", "created_at", "updated_at", "event"});
  CHECK(wf["id"] == "wf-1");
  CHECK(wf["name"] == "wf");
  CHECK(wf["workflow_name"] == "wf");
  CHECK(wf["workflow_id"] == "def-1");
  CHECK(wf["state"] == "RUNNING");
  CHECK(wf["state_info"].is_null());
  CHECK(wf["project_id"] == "<default-project>");
  CHECK(wf["task_execution_id"].is_null());
  CHECK(wf["created_at"].is_null()); // the test execution has no creation time
  CHECK(wf["updated_at"].get<std::string>().size() == 19);
  CHECK(wf["event"] == "WORKFLOW_LAUNCHED");
  CHECK(format_time(r.notes.front().at) == wf["updated_at"]);

  const json& launched = r.notes[1].data;
  keys.clear();
  for (auto it = launched.begin(); it != launched.end(); ++it)
    keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"id", "name", "workflow_execution_id", "workflow_name",
                                         "workflow_namespace", "workflow_id", "state", "state_info", "type",
                                         "project_id", "created_at", "updated_at", "started_at",
                                         "finished_at", "event"});
  CHECK(launched["name"] == "t1");
  CHECK(launched["workflow_execution_id"] == "wf-1");
  CHECK(launched["state"] == "RUNNING");
  CHECK(launched["type"] == "ACTION");
  CHECK(launched["started_at"].is_string());
  CHECK(launched["finished_at"].is_null());
  CHECK(launched["event"] == "TASK_LAUNCHED");
  const json& succeeded = r.notes[2].data;
  CHECK(succeeded["state"] == "SUCCESS");
  CHECK(succeeded["finished_at"].is_string());
  CHECK(r.notes.back().data["state"] == "SUCCESS");
  CHECK(r.notes.back().data["event"] == "WORKFLOW_SUCCEEDED");
}

TEST_CASE("without params.notify no notification is made") {
  notified_run none(two_tasks, json::object());
  CHECK(none.ex.wf.st == state::success);
  CHECK(none.notes.empty());
  notified_run empty(two_tasks, json{{"notify", json::array()}});
  CHECK(empty.notes.empty());
  notified_run filtered(
    two_tasks, json{{"notify", json::array({json{{"type", "webhook"}, {"event_types", {"TASK_RERUN"}}}})}});
  CHECK(filtered.notes.empty());
}

TEST_CASE("event_types keeps only the listed events and each publisher gets its own") {
  json notify = json::array(
    {json{{"type", "webhook"}, {"url", "a"}, {"event_types", {"WORKFLOW_LAUNCHED", "WORKFLOW_SUCCEEDED"}}},
     json{{"type", "noop"}, {"event_types", {"TASK_SUCCEEDED"}}}});
  notified_run r(two_tasks, json{{"notify", notify}});
  CHECK(r.log() ==
        lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_SUCCEEDED", "t2 TASK_SUCCEEDED", "wf WORKFLOW_SUCCEEDED"});
  CHECK(r.notes[0].publishers == json::array({notify[0]}));
  CHECK(r.notes[1].publishers == json::array({notify[1]}));
}

TEST_CASE("a failing task notifies TASK_FAILED then WORKFLOW_FAILED") {
  notified_run r(R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      on-success:
        - t2
    t2:
      action: std.fail
)",
                 json{{"notify", webhook}});
  CHECK(r.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_SUCCEEDED", "t2 TASK_LAUNCHED",
                         "t2 TASK_FAILED", "wf WORKFLOW_FAILED"});
  CHECK(r.notes.back().data["state_info"].get<std::string>().rfind("Failure caused by error in tasks: t2",
                                                                   0) == 0);
}

TEST_CASE("a fail transition and a bad task input notify as in Mistral") {
  notified_run fail(R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      on-complete:
        - fail
)",
                    json{{"notify", webhook}});
  CHECK(fail.log() ==
        lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_SUCCEEDED", "wf WORKFLOW_FAILED"});
  notified_run input(R"(version: '2.0'
wf:
  tasks:
    task1:
      input:
        url: <% $.ItWillBeError %>
      action: std.http
      on-error: task2
    task2:
      action: std.noop
)",
                     json{{"notify", webhook}});
  CHECK(input.log() ==
        lines{"wf WORKFLOW_LAUNCHED", "task1 TASK_LAUNCHED", "task1 TASK_FAILED", "wf WORKFLOW_FAILED"});
}

TEST_CASE("pause and resume notify the workflow, and the held task completes in between") {
  notified_run r(R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.async_noop
      on-success:
        - t2
    t2:
      action: std.noop
)",
                 json{{"notify", webhook}});
  REQUIRE(r.held.size() == 1);
  r.feed(ev_pause{});
  CHECK(r.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "wf WORKFLOW_PAUSED"});
  r.feed(ev_action_done{r.held[0].action_id, action::action_result::ok(nullptr)});
  CHECK(r.log() ==
        lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "wf WORKFLOW_PAUSED", "t1 TASK_SUCCEEDED"});
  r.feed(ev_resume{});
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "wf WORKFLOW_PAUSED",
                         "t1 TASK_SUCCEEDED", "wf WORKFLOW_RESUMED", "t2 TASK_LAUNCHED", "t2 TASK_SUCCEEDED",
                         "wf WORKFLOW_SUCCEEDED"});
}

TEST_CASE("a paused and resumed sub-workflow notifies TASK_PAUSED and TASK_RESUMED before the workflow's") {
  notified_run r(R"(version: '2.0'
wf:
  tasks:
    t1:
      workflow: sub
)",
                 json{{"notify", webhook}});
  REQUIRE(r.subs.size() == 1);
  // Sub-workflows inherit params.notify.
  CHECK(r.subs[0].params["notify"] == webhook);
  r.feed(ev_action_update{r.subs[0].execution_id, state::paused});
  r.feed(ev_action_update{r.subs[0].execution_id, state::running});
  CHECK(r.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_PAUSED", "wf WORKFLOW_PAUSED",
                         "t1 TASK_RESUMED", "wf WORKFLOW_RESUMED"});
}

TEST_CASE("cancelling notifies WORKFLOW_CANCELLED, and a cancelled action TASK_CANCELLED first") {
  notified_run stop(R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.async_noop
)",
                    json{{"notify", webhook}});
  stop.feed(ev_stop{state::cancelled, std::nullopt});
  CHECK(stop.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "wf WORKFLOW_CANCELLED"});

  notified_run cancelled(
    R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
)",
    json{{"notify", webhook}}, [](const cmd_run_action&) {
      return action::action_result{action::action_result::kind::cancelled, nullptr, nullptr};
    });
  CHECK(cancelled.log() ==
        lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_CANCELLED", "wf WORKFLOW_CANCELLED"});
}

TEST_CASE("a rerun notifies WORKFLOW_RERUN then TASK_RERUN") {
  int calls = 0;
  notified_run r(two_tasks, json{{"notify", webhook}}, [&calls](const cmd_run_action&) {
    if (calls++ == 0) // t1's first run fails
      return action::action_result::failed(json("boom"));
    return action::action_result::ok(nullptr);
  });
  CHECK(r.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_FAILED", "wf WORKFLOW_FAILED"});
  r.feed(ev_rerun{r.ex.last_task_named("t1")->id, true, json()});
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_FAILED", "wf WORKFLOW_FAILED",
                         "wf WORKFLOW_RERUN", "t1 TASK_RERUN", "t1 TASK_SUCCEEDED", "t2 TASK_LAUNCHED",
                         "t2 TASK_SUCCEEDED", "wf WORKFLOW_SUCCEEDED"});
}

TEST_CASE("a rerun inside a sub-workflow reruns the parent workflow, then its task") {
  notified_run r(R"(version: '2.0'
wf:
  tasks:
    t1:
      workflow: sub
)",
                 json{{"notify", webhook}});
  REQUIRE(r.subs.size() == 1);
  r.feed(ev_action_done{r.subs[0].execution_id, action::action_result::failed(json{{"result", "boom"}})});
  CHECK(r.ex.wf.st == state::error);
  r.feed(ev_action_update{r.subs[0].execution_id, state::running, true});
  CHECK(r.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_FAILED", "wf WORKFLOW_FAILED",
                         "wf WORKFLOW_RERUN", "t1 TASK_RERUN"});
  r.feed(ev_action_done{r.subs[0].execution_id, action::action_result::ok(json::object())});
  CHECK(r.log().back() == "wf WORKFLOW_SUCCEEDED");
}

TEST_CASE("a retried task is launched again and its delay is a None event for unfiltered publishers") {
  const char* yaml = R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.fail
      retry:
        count: 1
        delay: 0
)";
  notified_run all(yaml, json{{"notify", webhook}});
  CHECK(all.log() == lines{"wf WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_FAILED", "t1 None",
                           "t1 TASK_LAUNCHED", "t1 TASK_FAILED", "wf WORKFLOW_FAILED"});
  CHECK(all.notes[3].data["state"] == "DELAYED");
  CHECK(all.notes[3].data["event"].is_null());
  json filtered = json::array({json{{"type", "webhook"}, {"event_types", {"TASK_LAUNCHED", "TASK_FAILED"}}}});
  notified_run some(yaml, json{{"notify", filtered}});
  CHECK(some.log() == lines{"t1 TASK_LAUNCHED", "t1 TASK_FAILED", "t1 TASK_LAUNCHED", "t1 TASK_FAILED"});
}

TEST_CASE("a join that fires is TASK_RESUMED from WAITING, as Mistral's continue_task") {
  notified_run r(R"(version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-success: [j]
    b:
      action: std.noop
      on-success: [j]
    j:
      join: all
      action: std.noop
)",
                 json{{"notify", json::array({json{{"type", "noop"},
                                                   {"event_types", {"TASK_LAUNCHED", "TASK_RESUMED"}}}})}});
  CHECK(r.ex.wf.st == state::success);
  CHECK(r.log() == lines{"a TASK_LAUNCHED", "b TASK_LAUNCHED", "j TASK_RESUMED"});
}

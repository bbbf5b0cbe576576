#include "actors/engine/recovery.hpp"

#include "persistence/execution_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::engine;

namespace {

stored_action action(const std::string& id, const std::string& ex, bool safe, std::string state = "RUNNING") {
  stored_action a;
  a.id = id;
  a.execution_id = ex;
  a.task_id = "task-" + id;
  a.state = std::move(state);
  a.params = {
    {"dispatch", {{"action", "std.echo"}, {"input", {{"output", 1}, {"delay", 1}}}, {"safe_rerun", safe}}}};
  return a;
}

stored_action sub_link(const std::string& id, const std::string& ex) {
  stored_action a;
  a.id = id;
  a.execution_id = ex;
  a.task_id = "task-" + id;
  a.state = "RUNNING";
  a.is_workflow = true;
  a.params = {{"start", {{"workflow_name", "sub"}, {"namespace", ""}, {"input", json::object()}}}};
  return a;
}

template <class T>
std::vector<T> only(const std::vector<recovery_step>& steps) {
  std::vector<T> out;
  for (const auto& s : steps)
    if (const auto* x = std::get_if<T>(&s))
      out.push_back(*x);
  return out;
}

} // namespace

TEST_CASE("a safe-rerun action in flight is sent again, another one fails with a clear state_info") {
  recovery_input in;
  in.executions = {{"wf", "RUNNING", "", ""}};
  in.actions = {action("safe", "wf", true), action("unsafe", "wf", false)};
  auto steps = plan_recovery(in, 0);
  REQUIRE(steps.size() == 2);
  auto reruns = only<rerun_action>(steps);
  REQUIRE(reruns.size() == 1);
  CHECK(reruns[0].action_id == "safe");
  CHECK(reruns[0].dispatch["action"] == "std.echo");
  auto failed = only<complete_action>(steps);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].action_id == "unsafe");
  CHECK(failed[0].kind == 1);
  CHECK(failed[0].error == interrupted_action_info);
}

TEST_CASE("an instant action left for a later chunk is run again even when not safe-rerun") {
  recovery_input in;
  in.executions = {{"wf", "RUNNING", "", ""}};
  auto noop = action("noop", "wf", false);
  noop.params["dispatch"]["action"] = "std.noop";
  noop.params["dispatch"]["input"] = json::object();
  in.actions = {noop, action("slow-echo", "wf", false)};
  auto steps = plan_recovery(in, 0);
  auto reruns = only<rerun_action>(steps);
  REQUIRE(reruns.size() == 1);
  CHECK(reruns[0].action_id == "noop");
  auto failed = only<complete_action>(steps);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].action_id == "slow-echo");
}

TEST_CASE("an action without a recorded dispatch is never run twice") {
  recovery_input in;
  in.executions = {{"wf", "RUNNING", "", ""}};
  stored_action a = action("old", "wf", true);
  a.params = nullptr;
  in.actions = {a};
  auto steps = plan_recovery(in, 0);
  REQUIRE(steps.size() == 1);
  CHECK(std::holds_alternative<complete_action>(steps[0]));
}

TEST_CASE("async actions wait for their outside completion and finished executions are left alone") {
  recovery_input in;
  in.executions = {{"wf", "RUNNING", "", ""}, {"done", "SUCCESS", "", ""}};
  stored_action async = action("async", "wf", false);
  async.is_sync = false;
  in.actions = {async, action("late", "done", false)};
  in.timers = {{"t:0", "done", "t", 0, 10}};
  CHECK(plan_recovery(in, 0).empty());
}

TEST_CASE("timers are re-armed for the time left, overdue ones at once") {
  recovery_input in;
  in.executions = {{"wf", "PAUSED", "", ""}};
  in.timers = {{"a:2", "wf", "a", 2, 5'000'000}, {"b:0", "wf", "b", 0, 1'000'000}};
  auto timers = only<arm_timer>(plan_recovery(in, 2'000'000));
  REQUIRE(timers.size() == 2);
  CHECK(timers[0].task_id == "a");
  CHECK(timers[0].kind == 2);
  CHECK(timers[0].delay_us == 3'000'000);
  CHECK(timers[1].delay_us == 0);
}

TEST_CASE("sub-workflow links restart a missing child and deliver a finished child's result") {
  recovery_input in;
  in.executions = {{"parent", "RUNNING", "", ""}, {"running-child", "RUNNING", "", ""}};
  in.actions = {sub_link("missing-child", "parent"), sub_link("finished-child", "parent"),
                sub_link("failed-child", "parent"), sub_link("running-child", "parent")};
  in.children["finished-child"] = {"SUCCESS", {{"x", 1}}, nullptr};
  in.children["failed-child"] = {"ERROR", json::object(), "boom"};
  in.children["running-child"] = {"RUNNING", nullptr, nullptr};
  auto steps = plan_recovery(in, 0);
  auto restarts = only<restart_subworkflow>(steps);
  REQUIRE(restarts.size() == 1);
  CHECK(restarts[0].link_id == "missing-child");
  CHECK(restarts[0].execution_id == "parent");
  CHECK(restarts[0].start["workflow_name"] == "sub");
  auto results = only<complete_action>(steps);
  REQUIRE(results.size() == 2);
  CHECK(results[0].action_id == "finished-child");
  CHECK(results[0].kind == 0);
  CHECK(results[0].data["x"] == 1);
  CHECK(results[1].action_id == "failed-child");
  CHECK(results[1].kind == 1);
  CHECK(results[1].error == "boom");
}

TEST_CASE("the store's unfinished executions, running actions, links and timers are read back") {
  persistence::testing::fresh_db f;
  using persistence::write_op;
  auto wf = [](const std::string& id, const std::string& state, json task) {
    return persistence::record{{"id", id},
                               {"state", state},
                               {"created_at", 1},
                               {"task_execution_id", task},
                               {"output", {{"r", id}}},
                               {"runtime_context", {{"wb_name", "wb"}}}};
  };
  auto act = [](const std::string& id, const std::string& ex, const std::string& state, bool is_wf) {
    return persistence::record{{"id", id},
                               {"workflow_execution_id", ex},
                               {"task_execution_id", "t1"},
                               {"state", state},
                               {"is_workflow", is_wf},
                               {"created_at", 1},
                               {"params", {{"dispatch", {{"safe_rerun", true}}}}}};
  };
  std::vector<write_op> ops = {
    {write_op::kind::upsert, &persistence::workflow_executions_table(), wf("p", "RUNNING", nullptr), {}},
    {write_op::kind::upsert, &persistence::workflow_executions_table(), wf("c", "SUCCESS", "t1"), {}},
    {write_op::kind::upsert, &persistence::workflow_executions_table(), wf("old", "ERROR", nullptr), {}},
    {write_op::kind::upsert, &persistence::action_executions_table(), act("a1", "p", "RUNNING", false), {}},
    {write_op::kind::upsert, &persistence::action_executions_table(), act("a2", "p", "SUCCESS", false), {}},
    {write_op::kind::upsert, &persistence::action_executions_table(), act("c", "p", "RUNNING", true), {}},
    {write_op::kind::upsert,
     &persistence::delayed_calls_table(),
     persistence::record{{"id", "t1:1"},
                         {"workflow_execution_id", "p"},
                         {"task_execution_id", "t1"},
                         {"kind", "1"},
                         {"fire_at", 77},
                         {"created_at", 1}},
     {}}};
  REQUIRE(f.db->write_batch(ops).ok());
  auto in = load_recovery_input(*f.db);
  REQUIRE(in.ok());
  REQUIRE(in->executions.size() == 1);
  CHECK(in->executions[0].id == "p");
  CHECK(in->executions[0].wb_name == "wb");
  REQUIRE(in->actions.size() == 2);
  REQUIRE(in->timers.size() == 1);
  CHECK(in->timers[0].kind == 1);
  CHECK(in->timers[0].fire_at == 77);
  REQUIRE(in->children.count("c") == 1);
  CHECK(in->children["c"].state == "SUCCESS");
  auto steps = plan_recovery(*in, 0);
  CHECK(only<rerun_action>(steps).size() == 1);
  CHECK(only<complete_action>(steps).size() == 1); // the finished child's result
  CHECK(only<arm_timer>(steps).size() == 1);
}

TEST_CASE("a sub-workflow still running under a cancelled or paused parent gets the lost control again") {
  recovery_input in;
  stored_execution under_cancelled{"c1", "RUNNING", "", "", "CANCELLED", std::string("stopped by user")};
  stored_execution under_paused{"c2", "RUNNING", "", "", "PAUSED", std::nullopt};
  stored_execution paused_too{"c3", "PAUSED", "", "", "PAUSED", std::nullopt};
  stored_execution under_running{"c4", "RUNNING", "", "", "RUNNING", std::nullopt};
  in.executions = {under_cancelled, under_paused, paused_too, under_running};
  auto controls = only<control_execution>(plan_recovery(in, 0));
  REQUIRE(controls.size() == 2);
  CHECK(controls[0].execution_id == "c1");
  CHECK(controls[0].what == control_execution::kind::cancel);
  CHECK(controls[0].message == "stopped by user");
  CHECK(controls[1].execution_id == "c2");
  CHECK(controls[1].what == control_execution::kind::pause);
}

TEST_CASE("the state of a sub-workflow's parent is read through its parent task") {
  persistence::testing::fresh_db f;
  using persistence::record;
  using persistence::write_op;
  std::vector<write_op> ops = {
    {write_op::kind::upsert,
     &persistence::workflow_executions_table(),
     record{{"id", "parent"}, {"state", "CANCELLED"}, {"state_info", "by user"}, {"created_at", 1}},
     {}},
    {write_op::kind::upsert,
     &persistence::task_executions_table(),
     record{{"id", "t1"},
            {"name", "call"},
            {"workflow_execution_id", "parent"},
            {"state", "RUNNING"},
            {"created_at", 1}},
     {}},
    {write_op::kind::upsert,
     &persistence::workflow_executions_table(),
     record{{"id", "child"}, {"state", "RUNNING"}, {"task_execution_id", "t1"}, {"created_at", 2}},
     {}}};
  REQUIRE(f.db->write_batch(ops).ok());
  auto in = load_recovery_input(*f.db);
  REQUIRE(in.ok());
  REQUIRE(in->executions.size() == 1);
  CHECK(in->executions[0].parent_state == "CANCELLED");
  CHECK(in->executions[0].parent_info == "by user");
  auto controls = only<control_execution>(plan_recovery(*in, 0));
  REQUIRE(controls.size() == 1);
  CHECK(controls[0].execution_id == "child");
}

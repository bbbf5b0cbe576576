// The engine end to end, in-process: executions started through the v2
// routes run on the real actors over a group-committed SQLite store.
#include "test/engine_harness.hpp"

#include "persistence/execution_tables.hpp"

#include <algorithm>
#include <thread>

#include <doctest/doctest.h>

using namespace mistral;
using mistral::test::engine_harness;

namespace {

const char* workflows = R"(version: '2.0'
chain:
  input:
    - name: world
  tasks:
    t1:
      action: std.echo output="hello <% $.name %>"
      publish:
        greeting: <% task().result %>
      on-success: t2
    t2:
      action: std.noop
      on-success: t3
    t3:
      action: std.sleep seconds=0
      on-success: t4
    t4:
      action: std.echo output=<% $.greeting %>
      publish:
        last: <% task().result %>
  output:
    said: <% $.last %>
fanout:
  tasks:
    start:
      action: std.noop
      on-success: [b1, b2, b3, b4, b5]
    b1:
      action: std.echo output=1
      on-success: [joined]
    b2:
      action: std.sleep seconds=0
      on-success: [joined]
    b3:
      action: std.noop
      on-success: [joined]
    b4:
      action: std.echo output=4
      on-success: [joined]
    b5:
      action: std.noop
      on-success: [joined]
    joined:
      join: all
      action: std.noop
failing:
  tasks:
    boom:
      action: std.fail error_data="bad"
      on-error: handled
    handled:
      action: std.echo output="recovered"
      publish:
        note: <% task().result %>
  output:
    note: <% $.note %>
always_failing:
  tasks:
    doomed:
      action: std.fail error_data="no"
retrying:
  tasks:
    flaky:
      action: std.fail
      retry:
        count: 2
        delay: 2
      on-error: [recover]
    recover:
      action: std.echo output="recovered"
)";

std::size_t count_tasks(engine_harness& h, const std::string& id, const std::string& name) {
  auto tasks = h.call_json("GET", "/v2/executions/" + id + "/tasks")["tasks"];
  std::size_t n = 0;
  for (const auto& t : tasks)
    n += t["name"] == name ? 1 : 0;
  return n;
}

} // namespace

TEST_CASE("a chain of instant and executor actions publishes through to the output") {
  engine_harness h;
  h.upload_workflows(workflows);
  auto id = h.start("chain", json{{"name", "mistral"}});
  auto row = h.wait_terminal(id);
  REQUIRE(row["state"] == "SUCCESS");
  CHECK(json::parse(row["output"].get<std::string>()) == json{{"said", "hello mistral"}});
  CHECK(h.call_json("GET", "/v2/action_executions")["action_executions"].size() == 4);
}

TEST_CASE("a fan-out joins once every branch arrived, instant or not") {
  engine_harness h;
  h.upload_workflows(workflows);
  auto id = h.start("fanout");
  auto row = h.wait_terminal(id);
  REQUIRE(row["state"] == "SUCCESS");
  CHECK(count_tasks(h, id, "joined") == 1);
  CHECK(h.call_json("GET", "/v2/executions/" + id + "/tasks")["tasks"].size() == 7);
}

TEST_CASE("an instant action's failure goes to on-error") {
  engine_harness h;
  h.upload_workflows(workflows);
  auto id = h.start("failing");
  auto row = h.wait_terminal(id);
  REQUIRE(row["state"] == "SUCCESS");
  CHECK(json::parse(row["output"].get<std::string>()) == json{{"note", "recovered"}});
}

TEST_CASE("a start runs the definition as it is now, after an update or a delete and re-create") {
  engine_harness h;
  auto said = [&](const std::string& id) {
    auto row = h.wait_terminal(id);
    REQUIRE_MESSAGE(row["state"] == "SUCCESS", row.dump());
    return json::parse(row["output"].get<std::string>())["said"];
  };
  auto version = [](const std::string& word) {
    return "version: '2.0'\nversioned:\n  tasks:\n    t:\n      action: std.echo output=\"" + word + "\"" +
           "\n      publish:\n        said: <% task().result %>\n  output:\n    said: <% $.said %>\n";
  };
  h.upload_workflows(version("one"));
  CHECK(said(h.start("versioned")) == "one");
  CHECK(said(h.start("versioned")) == "one");
  auto put = h.call("PUT", "/v2/workflows", version("two"), "text/plain");
  REQUIRE_MESSAGE(put.status == 200, put.body);
  CHECK(said(h.start("versioned")) == "two");
  for (const auto& id : {h.start("versioned"), h.start("versioned")})
    CHECK(h.call("DELETE", "/v2/executions/" + id + "?force=true").status == 204);
  REQUIRE(h.call("DELETE", "/v2/workflows/versioned").status == 204);
  h.upload_workflows(version("three"));
  CHECK(said(h.start("versioned")) == "three");
}

TEST_CASE("a PUT of an execution answers without published_global, which GET shows") {
  engine_harness h;
  h.upload_workflows(
    "version: '2.0'\nwaiting:\n  vars:\n    v: 1\n  tasks:\n    t:\n      action: std.async_noop\n");
  auto id = h.start("waiting");
  auto described = h.call_json("PUT", "/v2/executions/" + id, R"({"description": "renamed"})");
  CHECK(described["description"] == "renamed");
  CHECK_FALSE(described.contains("published_global"));
  auto paused = h.call_json("PUT", "/v2/executions/" + id, R"({"state": "PAUSED"})");
  CHECK(paused["state"] == "PAUSED");
  CHECK_FALSE(paused.contains("published_global"));
  auto got = h.call_json("GET", "/v2/executions/" + id);
  CHECK(got["published_global"] == "{}");
  CHECK(h.call("DELETE", "/v2/executions/" + id + "?force=true").status == 204);
}

TEST_CASE("a start whose input or params outgrow the field size limit is refused with 400") {
  engine_harness h("[engine]\nexecution_field_size_limit_kb = 1\n");
  h.upload_workflows("version: '2.0'\nsized:\n  input:\n    - x\n  tasks:\n    t:\n      action: std.noop\n");
  const std::string big(3000, 'a');
  auto refused =
    h.call("POST", "/v2/executions", json{{"workflow_name", "sized"}, {"input", {{"x", big}}}}.dump());
  CHECK(refused.status == 400);
  CHECK(json::parse(refused.body)["faultstring"] ==
        "Field size limit exceeded [class=TaskExecution, field=input, size=2KB, limit=1KB]");
  auto by_params =
    h.call("POST", "/v2/executions",
           json{{"workflow_name", "sized"}, {"input", {{"x", 1}}}, {"params", {{"k", big}}}}.dump());
  CHECK(by_params.status == 400);
  CHECK(json::parse(by_params.body)["faultstring"].get<std::string>().find("field=params") !=
        std::string::npos);
  CHECK(h.call_json("GET", "/v2/executions")["executions"].empty());
  auto fits =
    h.call("POST", "/v2/executions", json{{"workflow_name", "sized"}, {"input", {{"x", 1}}}}.dump());
  CHECK(fits.status == 201);
}

TEST_CASE("many concurrent executions each commit and finish with their own result") {
  engine_harness h;
  h.upload_workflows(workflows);
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i)
    ids.push_back(h.start("chain", json{{"name", "n" + std::to_string(i)}}));
  for (int i = 0; i < 40; ++i) {
    auto row = h.wait_terminal(ids[i]);
    REQUIRE(row["state"] == "SUCCESS");
    CHECK(json::parse(row["output"].get<std::string>())["said"] == "hello n" + std::to_string(i));
  }
}

TEST_CASE("a retry whose action fails at once keeps its next timer in the store") {
  engine_harness h;
  h.upload_workflows(workflows);
  auto id = h.start("retrying");
  // After the first retry ran (and failed at once), the second one waits:
  // its timer must be in the store, where a restart would find it.
  bool checked = false;
  for (int i = 0; i < 200 && !checked; ++i) {
    auto actions = h.call_json("GET", "/v2/action_executions")["action_executions"];
    auto tasks = h.call_json("GET", "/v2/executions/" + id + "/tasks")["tasks"];
    if (actions.size() == 2 && tasks.size() == 1 && tasks[0]["state"] == "DELAYED") {
      auto timers = h.db().list(persistence::delayed_calls_table(), {});
      REQUIRE(timers.ok());
      auto again = h.call_json("GET", "/v2/action_executions")["action_executions"];
      if (again.size() == 2) { // still before the second retry fired
        CHECK(timers->size() == 1);
        checked = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(checked);
  auto row = h.wait_terminal(id);
  CHECK(row["state"] == "SUCCESS");
  CHECK(h.call_json("GET", "/v2/action_executions")["action_executions"].size() == 4);
}

namespace {

const char* chunked_workflows = R"(version: '2.0'
items_then_chain:
  input:
    - n
  tasks:
    items:
      with-items: i in <% range($.n) %>
      action: std.echo output=<% $.i * 2 %>
      publish:
        doubled: <% task().result %>
      on-success: c1
    c1:
      action: std.noop
      on-success: c2
    c2:
      action: std.echo output=<% len($.doubled) %>
      publish:
        count: <% task().result %>
      on-success: c3
    c3:
      action: std.noop
  output:
    doubled: <% $.doubled %>
    count: <% $.count %>
)";

/// What an execution ended with, independent of ids and times: its state and
/// output, each task's name, state and number of action executions.
json outcome_of(engine_harness& h, const std::string& id) {
  auto row = h.wait_terminal(id, std::chrono::seconds(120));
  json tasks = json::array();
  json listed = h.call_json("GET", "/v2/executions/" + id + "/tasks");
  for (const auto& t : listed["tasks"]) {
    json actions = h.call_json("GET", "/v2/tasks/" + t["id"].get<std::string>() + "/action_executions");
    actions = actions["action_executions"];
    tasks.push_back({t["name"], t["state"], actions.size()});
  }
  std::sort(tasks.begin(), tasks.end());
  return {{"state", row["state"]},
          {"output", json::parse(row.value("output", "null"), nullptr, false)},
          {"tasks", tasks}};
}

} // namespace

TEST_CASE("a with-items run in small commits ends exactly as one run in a single commit") {
  json chunked, whole;
  {
    engine_harness h("[engine]\ninstant_actions_per_commit = 7\nwith_items_per_commit = 9\n");
    h.upload_workflows(chunked_workflows);
    chunked = outcome_of(h, h.start("items_then_chain", json{{"n", 250}}));
  }
  {
    engine_harness h("[engine]\ninstant_actions_per_commit = 100000\nwith_items_per_commit = 100000\n");
    h.upload_workflows(chunked_workflows);
    whole = outcome_of(h, h.start("items_then_chain", json{{"n", 250}}));
  }
  REQUIRE(chunked["state"] == "SUCCESS");
  CHECK(chunked == whole);
  json doubled = json::array();
  for (int i = 0; i < 250; ++i)
    doubled.push_back(2 * i);
  CHECK(chunked["output"]["doubled"] == doubled); // in item order, whatever the chunks
  CHECK(chunked["output"]["count"] == 250);
  CHECK(chunked["tasks"] ==
        json::array(
          {{"c1", "SUCCESS", 1}, {"c2", "SUCCESS", 1}, {"c3", "SUCCESS", 1}, {"items", "SUCCESS", 250}}));
}

TEST_CASE("a chunked with-items answers its start at once and lets other executions finish meanwhile") {
  engine_harness h("[engine]\ninstant_actions_per_commit = 5\nwith_items_per_commit = 20\n");
  h.upload_workflows(chunked_workflows);
  h.upload_workflows("version: '2.0'\nsingle:\n  tasks:\n    one:\n      action: std.noop\n");
  auto big = h.start("items_then_chain", json{{"n", 3000}});
  // The start was answered after the first chunk's commit: the task is still running.
  auto first = h.call_json("GET", "/v2/executions/" + big);
  CHECK(first["state"] == "RUNNING");
  auto small = h.start("single");
  auto small_row = h.wait_terminal(small);
  REQUIRE(small_row["state"] == "SUCCESS");
  // 3,000 items in chunks of 5 are 600 commits: the small one ran in between.
  CHECK(h.call_json("GET", "/v2/executions/" + big)["state"] == "RUNNING");
  auto row = h.wait_terminal(big, std::chrono::seconds(300));
  REQUIRE(row["state"] == "SUCCESS");
  CHECK(json::parse(row["output"].get<std::string>())["count"] == 3000);
}

TEST_CASE("finished executions leave no actor behind and a later rerun loads theirs again") {
  engine_harness h;
  h.upload_workflows(workflows);
  auto idle = h.running_actors();
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(h.start("chain", json{{"name", "n" + std::to_string(i)}}));
  auto failed = h.start("always_failing");
  for (const auto& id : ids)
    REQUIRE(h.wait_terminal(id)["state"] == "SUCCESS");
  REQUIRE(h.wait_terminal(failed)["state"] == "ERROR");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (h.running_actors() > idle && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(h.running_actors() <= idle);
  // The failed execution's actor is gone: the rerun reaches one loaded from the store.
  auto tasks = h.call_json("GET", "/v2/executions/" + failed + "/tasks")["tasks"];
  REQUIRE(tasks.size() == 1);
  std::string task_id = tasks[0]["id"];
  auto rerun = h.call("PUT", "/v2/tasks/" + task_id, R"({"state": "RUNNING", "reset": true})");
  REQUIRE_MESSAGE(rerun.status == 200, rerun.body);
  json row;
  for (int i = 0; i < 600; ++i) {
    row = h.wait_terminal(failed);
    if (h.call_json("GET", "/v2/action_executions?task_execution_id=" + task_id)["action_executions"]
            .size() == 2 &&
        row["state"] == "ERROR")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(row["state"] == "ERROR");
  CHECK(
    h.call_json("GET", "/v2/action_executions?task_execution_id=" + task_id)["action_executions"].size() ==
    2);
}

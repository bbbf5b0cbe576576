#include "persistence/execution_tables.hpp"
#include "test/api_harness.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using mistral::json;
using mistral::test::api_harness;

namespace {

json run(api_harness& api, const json& body, int expect = 201) {
  auto r = api.call("POST", "/v2/action_executions", body.dump());
  CHECK_MESSAGE(r.status == expect, r.body);
  return api_harness::body_of(r);
}

/// Polls an action execution until it leaves RUNNING (bounded: 30 s).
json settled(api_harness& api, const std::string& id) {
  json row;
  for (int i = 0; i < 300; ++i) {
    row = api_harness::body_of(api.call("GET", "/v2/action_executions/" + id));
    if (row.value("state", "") != "RUNNING")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return row;
}

const char* greet_action = R"(---
version: '2.0'
greet:
  base: std.echo
  base-input:
    output: "Hello, <% $.name %>"
  input:
    - name
    - punct: "!"
  output: <% $ + "!" %>
later:
  base: std.async_noop
  output: <% $.a %>
)";

} // namespace

TEST_CASE("a sync unsaved action run answers Mistral's unsaved shape and stores nothing") {
  api_harness api;
  json body = run(api, json{{"name", "std.echo"}, {"input", {{"output", "direct"}}}});
  CHECK(
    body.dump() ==
    R"({"id":null,"workflow_name":null,"workflow_namespace":"","task_execution_id":null,"state":"SUCCESS",)"
    R"("state_info":null,"tags":null,"name":"std.echo","description":null,"project_id":null,"accepted":null,)"
    R"("input":"{\"output\": \"direct\"}","output":"{\"result\": \"direct\"}","created_at":null,"updated_at":null})");
  auto list = api_harness::body_of(api.call("GET", "/v2/action_executions"));
  CHECK(list["action_executions"].empty());
}

TEST_CASE("run_sync with save_result stores the completed run and lists it") {
  api_harness api;
  json body = run(api, json{{"name", "std.echo"},
                            {"input", {{"output", "kept"}}},
                            {"params", {{"save_result", true}, {"run_sync", true}}}});
  CHECK(body["state"] == "SUCCESS");
  CHECK(body["accepted"] == false);
  CHECK(body["output"] == R"({"result": "kept"})");
  CHECK(body["created_at"].get<std::string>().find('T') == 10); // Mistral answers isoformat() here
  CHECK(body["updated_at"].is_null());
  auto list = api_harness::body_of(api.call("GET", "/v2/action_executions"));
  REQUIRE(list["action_executions"].size() == 1);
  json listed = list["action_executions"][0];
  CHECK(listed["id"] == body["id"]);
  CHECK(listed["task_name"].is_null());
  CHECK_FALSE(listed.contains("output"));
  CHECK(listed["project_id"] == "<default-project>");
}

TEST_CASE("save_result without run_sync answers RUNNING and completes in the background") {
  api_harness api;
  json body = run(api, json{{"name", "std.echo"},
                            {"input", R"({"output": "Hello, Mistral!"})"},
                            {"params", R"({"save_result": true})"}});
  CHECK(body["state"] == "RUNNING");
  CHECK(body["output"].is_null());
  CHECK(body["description"] == "");
  json done = settled(api, body["id"]);
  CHECK(done["state"] == "SUCCESS");
  CHECK(done["accepted"] == true);
  CHECK(done["output"] == R"({"result": "Hello, Mistral!"})");
}

TEST_CASE("an async action stays RUNNING until a PUT completes it, and cannot run synchronously") {
  api_harness api;
  auto sync = run(api, json{{"name", "std.async_noop"}, {"params", {{"run_sync", true}}}}, 400);
  CHECK(sync["faultstring"] == "Action does not support synchronous execution.");
  json body = run(api, json{{"name", "std.async_noop"}});
  CHECK(body["state"] == "RUNNING");
  std::string id = body["id"];
  auto put =
    api.call("PUT", "/v2/action_executions/" + id, R"({"state": "SUCCESS", "output": "{\"a\": 1}"})");
  CHECK(put.status == 200);
  json row = api_harness::body_of(put);
  CHECK(row["state"] == "SUCCESS");
  CHECK(row["output"] == R"({"result": {"a": 1}})");
  CHECK_FALSE(row.contains("task_name"));
  auto again = api.call("PUT", "/v2/action_executions/" + id, R"({"state": "SUCCESS"})");
  CHECK(again.status == 500);
  CHECK(api_harness::body_of(again)["faultstring"] == "Action std.async_noop is already completed");
}

TEST_CASE("ad-hoc actions run outside workflows: defaults shown, output clause applied on completion") {
  api_harness api;
  REQUIRE(api.call("POST", "/v2/actions", greet_action, "text/plain").status == 201);
  json now = run(api, json{{"name", "greet"}, {"input", {{"name", "x"}}}});
  CHECK(now["input"] == R"({"name": "x", "punct": "!"})");
  CHECK(now["output"] == R"({"result": "Hello, x"})");
  json bad = run(api, json{{"name", "greet"}, {"input", {{"nam", "x"}}}}, 400);
  CHECK(bad["faultstring"] == "Invalid input [name=greet, class=mistral.actions.adhoc.AdHocAction, "
                              "missing=['name'], unexpected=['nam']]");
  json background =
    run(api, json{{"name", "greet"}, {"input", {{"name", "y"}}}, {"params", {{"save_result", true}}}});
  CHECK(settled(api, background["id"])["output"] == R"({"result": "Hello, y!"})");
  json later = run(api, json{{"name", "later"}});
  auto put = api.call("PUT", "/v2/action_executions/" + later["id"].get<std::string>(),
                      R"({"state": "SUCCESS", "output": {"a": 5}})");
  CHECK(api_harness::body_of(put)["output"] == R"({"result": 5})");
  json unknown = run(api, json{{"name", "nope"}}, 400);
  CHECK(unknown["faultstring"] == "Failed to find action [action_name=nope, namespace=]");
}

TEST_CASE("deleting action executions follows allow_action_execution_deletion") {
  api_harness api;
  json done = run(api, json{{"name", "std.echo"},
                            {"input", {{"output", 1}}},
                            {"params", {{"save_result", true}, {"run_sync", true}}}});
  std::string id = done["id"];
  auto denied = api.call("DELETE", "/v2/action_executions/" + id);
  CHECK(denied.status == 403);
  CHECK(api_harness::body_of(denied)["faultstring"] == "Action execution deletion is not allowed.");

  std::const_pointer_cast<mistral::config::config>(api.context()->cfg)
    ->set("api", "allow_action_execution_deletion", "True");
  auto missing = api.call("DELETE", "/v2/action_executions/nonexist");
  CHECK(missing.status == 404);
  CHECK(api_harness::body_of(missing)["faultstring"] == "ActionExecution not found [id=nonexist]");
  json running = run(api, json{{"name", "std.async_noop"}});
  auto busy = api.call("DELETE", "/v2/action_executions/" + running["id"].get<std::string>());
  CHECK(busy.status == 403);
  CHECK(api_harness::body_of(busy)["faultstring"] == "Only completed action execution can be deleted.");
  CHECK(api.call("DELETE", "/v2/action_executions/" + id).status == 204);
  CHECK(api.call("GET", "/v2/action_executions/" + id).status == 404);
}

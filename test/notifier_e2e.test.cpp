// Notifications end to end: the engine, the notifier and a local HTTP
// receiver standing in for the webhook's server.

#include "test/engine_harness.hpp"

#include "actors/notifier/testing_receiver.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace mistral;
using mistral::notifier::testing::webhook_receiver;

namespace {

const char* two_tasks = R"(version: '2.0'
notify_two:
  tasks:
    t1:
      action: std.noop
      on-success:
        - t2
    t2:
      action: std.echo output="done"
)";

std::shared_ptr<config::config> quick_retries() {
  auto cfg = std::make_shared<config::config>();
  cfg->set("notifier", "webhook_retry_delay", "0.05");
  cfg->set("notifier", "webhook_max_retry_delay", "0.2");
  return cfg;
}

std::vector<json> bodies(const webhook_receiver& r) {
  std::vector<json> out;
  for (const auto& req : r.requests())
    out.push_back(json::parse(req.body));
  return out;
}

/// "<name> <event>" per notification, in arrival order.
std::vector<std::string> events(const std::vector<json>& got) {
  std::vector<std::string> out;
  for (const auto& b : got)
    out.push_back(b.value("name", "") + " " + b.value("event", ""));
  return out;
}

using lines = std::vector<std::string>;

} // namespace

TEST_CASE("a workflow with a params.notify webhook delivers Mistral's events and payloads") {
  webhook_receiver receiver;
  test::engine_harness h(quick_retries());
  h.upload_workflows(two_tasks);
  json notify =
    json::array({json{{"type", "webhook"}, {"url", receiver.url()}, {"headers", {{"X-Auth", "k"}}}}});
  std::string id = h.start("notify_two", json::object(), json{{"notify", notify}});
  json end = h.wait_terminal(id);
  CHECK_MESSAGE(end.value("state", "") == "SUCCESS", end.dump());
  REQUIRE(receiver.wait_for(6));
  auto got = bodies(receiver);
  CHECK(events(got) == lines{"notify_two WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_SUCCEEDED",
                             "t2 TASK_LAUNCHED", "t2 TASK_SUCCEEDED", "notify_two WORKFLOW_SUCCEEDED"});
  for (const auto& r : receiver.requests()) {
    CHECK(r.method == "POST");
    CHECK(r.headers.at("x-auth") == "k");
  }

  json ex = h.call_json("GET", "/v2/executions/" + id);
  const json& done = got.back();
  CHECK(done["id"] == id);
  CHECK(done["workflow_name"] == "notify_two");
  CHECK(done["workflow_id"] == ex["workflow_id"]);
  CHECK(done["workflow_namespace"] == "");
  CHECK(done["state"] == "SUCCESS");
  CHECK(done["state_info"].is_null());
  CHECK(done["project_id"] == "<default-project>");
  CHECK(done["task_execution_id"].is_null());
  CHECK(done["root_execution_id"].is_null());
  CHECK(done["created_at"] == ex["created_at"]);
  CHECK(done["updated_at"].get<std::string>().size() == 19);

  json tasks = h.call_json("GET", "/v2/tasks?workflow_execution_id=" + id)["tasks"];
  REQUIRE(tasks.size() == 2);
  for (const auto& t : tasks) {
    auto it = std::find_if(got.begin(), got.end(), [&](const json& b) {
      return b["id"] == t["id"] && b["event"] == "TASK_SUCCEEDED";
    });
    REQUIRE(it != got.end());
    CHECK((*it)["name"] == t["name"]);
    CHECK((*it)["workflow_execution_id"] == id);
    CHECK((*it)["state"] == "SUCCESS");
    CHECK((*it)["type"] == "ACTION");
    CHECK((*it)["created_at"] == t["created_at"]);
    CHECK((*it)["started_at"] == t["started_at"]);
    CHECK((*it)["finished_at"] == t["finished_at"]);
  }
}

TEST_CASE("a webhook receiver that fails the first attempts still gets every event") {
  webhook_receiver receiver([](int n, const auto&) { return n < 2 ? 500 : 200; });
  test::engine_harness h(quick_retries());
  h.upload_workflows(two_tasks);
  json notify = json::array({json{{"type", "webhook"}, {"url", receiver.url()}}});
  std::string id = h.start("notify_two", json::object(), json{{"notify", notify}});
  json end = h.wait_terminal(id);
  CHECK_MESSAGE(end.value("state", "") == "SUCCESS", end.dump());
  REQUIRE(receiver.wait_for(6));
  CHECK(receiver.failed() == 2);
  auto got = events(bodies(receiver));
  CHECK(std::multiset<std::string>(got.begin(), got.end()) ==
        std::multiset<std::string>{"notify_two WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_SUCCEEDED",
                                   "t2 TASK_LAUNCHED", "t2 TASK_SUCCEEDED", "notify_two WORKFLOW_SUCCEEDED"});
}

TEST_CASE("[notifier] notify publishes for every execution and is kept in its params") {
  webhook_receiver receiver;
  auto cfg = quick_retries();
  cfg->set("notifier", "notify",
           "[{\"type\": \"webhook\", \"url\": \"" + receiver.url() +
             "\", \"event_types\": [\"WORKFLOW_LAUNCHED\", \"WORKFLOW_SUCCEEDED\"]}, {\"type\": \"noop\"}]");
  // The notifier role runs in this process here: the engine uses it directly.
  test::engine_harness h(cfg, "engine,executor,notifier");
  h.upload_workflows(two_tasks);
  std::string id = h.start("notify_two");
  json end = h.wait_terminal(id);
  CHECK_MESSAGE(end.value("state", "") == "SUCCESS", end.dump());
  REQUIRE(receiver.wait_for(2));
  CHECK(events(bodies(receiver)) == lines{"notify_two WORKFLOW_LAUNCHED", "notify_two WORKFLOW_SUCCEEDED"});
  json params = json::parse(h.call_json("GET", "/v2/executions/" + id)["params"].get<std::string>());
  REQUIRE(params["notify"].size() == 2);
  CHECK(params["notify"][0]["url"] == receiver.url());
  CHECK(params["notify"][1]["type"] == "noop");
}

TEST_CASE("a sub-workflow inherits params.notify and its events reach the receiver") {
  webhook_receiver receiver;
  test::engine_harness h(quick_retries());
  h.upload_workflows(R"(version: '2.0'
notify_parent:
  tasks:
    call:
      workflow: notify_child
notify_child:
  tasks:
    inner:
      action: std.noop
)");
  json notify = json::array({json{{"type", "webhook"},
                                  {"url", receiver.url()},
                                  {"event_types", {"WORKFLOW_LAUNCHED", "WORKFLOW_SUCCEEDED"}}}});
  std::string id = h.start("notify_parent", json::object(), json{{"notify", notify}});
  json end = h.wait_terminal(id);
  CHECK_MESSAGE(end.value("state", "") == "SUCCESS", end.dump());
  REQUIRE(receiver.wait_for(4));
  auto got = bodies(receiver);
  auto child = std::find_if(got.begin(), got.end(), [](const json& b) {
    return b["name"] == "notify_child" && b["event"] == "WORKFLOW_SUCCEEDED";
  });
  REQUIRE(child != got.end());
  CHECK((*child)["root_execution_id"] == id);
  CHECK((*child)["task_execution_id"].is_string());
  // Within one execution the order is Mistral's; the parent ends last.
  CHECK(got.back()["id"] == id);
  CHECK(got.back()["event"] == "WORKFLOW_SUCCEEDED");
}

#include "persistence/execution_tables.hpp"
#include "test/api_harness.hpp"

#include <doctest/doctest.h>

using mistral::json;
using mistral::test::api_harness;
namespace persistence = mistral::persistence;

namespace {

constexpr const char* root_id = "11111111-1111-4111-8111-111111111111";
constexpr const char* child_id = "22222222-2222-4222-8222-222222222222";
constexpr const char* parent_task = "33333333-3333-4333-8333-333333333333";
constexpr const char* ok_task = "44444444-4444-4444-8444-444444444444";
constexpr const char* child_task = "55555555-5555-4555-8555-555555555555";

json wf_row(const std::string& id, const std::string& name, const std::string& state, json task_id,
            std::int64_t t) {
  return json{{"id", id},
              {"workflow_name", name},
              {"workflow_id", "def-" + name},
              {"state", state},
              {"task_execution_id", task_id},
              {"input", json::object()},
              {"params", json::object()},
              {"created_at", t},
              {"updated_at", t + 2000000}};
}

json task_row(const std::string& id, const std::string& name, const std::string& wf, const std::string& state,
              std::int64_t t, json rc = json::object()) {
  return json{{"id", id},       {"name", name},          {"workflow_execution_id", wf},
              {"state", state}, {"runtime_context", rc}, {"created_at", t},
              {"updated_at", t}};
}

json action_row(const std::string& id, const std::string& task, const std::string& state, std::int64_t t) {
  return json{{"id", id},       {"name", "std.fail"}, {"task_execution_id", task}, {"is_workflow", false},
              {"state", state}, {"accepted", true},   {"created_at", t},           {"updated_at", t}};
}

/// A root execution whose task `t1` (retried once) ran a failed sub-workflow,
/// and whose task `t2` succeeded.
void seed(api_harness& api) {
  auto& db = *api.context()->db;
  const std::int64_t t0 = 1'700'000'000'000'000;
  REQUIRE(db.insert(persistence::workflow_executions_table(), wf_row(root_id, "parent", "ERROR", nullptr, t0))
            .ok());
  REQUIRE(
    db.insert(persistence::task_executions_table(), task_row(parent_task, "t1", root_id, "ERROR", t0 + 1,
                                                             json{{"retry_task_policy", {{"retry_no", 1}}}}))
      .ok());
  REQUIRE(db.insert(persistence::task_executions_table(), task_row(ok_task, "t2", root_id, "SUCCESS", t0 + 2))
            .ok());
  REQUIRE(db.insert(persistence::workflow_executions_table(),
                    wf_row(child_id, "child", "ERROR", parent_task, t0 + 3))
            .ok());
  REQUIRE(
    db.insert(persistence::task_executions_table(), task_row(child_task, "c1", child_id, "ERROR", t0 + 4))
      .ok());
  REQUIRE(
    db.insert(persistence::action_executions_table(), action_row("a1", child_task, "ERROR", t0 + 5)).ok());
  json link = action_row(child_id, parent_task, "ERROR", t0 + 3);
  link["is_workflow"] = true;
  REQUIRE(db.insert(persistence::action_executions_table(), link).ok());
}

} // namespace

TEST_CASE("sub-executions list the execution then its sub-workflows depth-first") {
  api_harness api;
  seed(api);
  auto all = api_harness::body_of(api.call("GET", std::string("/v2/executions/") + root_id + "/executions"));
  REQUIRE(all["executions"].size() == 2);
  CHECK(all["executions"][0]["id"] == root_id);
  CHECK(all["executions"][1]["id"] == child_id);
  CHECK_FALSE(all["executions"][0].contains("output"));
  CHECK_FALSE(all["executions"][0].contains("published_global"));
  auto shallow = api_harness::body_of(
    api.call("GET", std::string("/v2/executions/") + root_id + "/executions?max_depth=0"));
  CHECK(shallow["executions"].size() == 1);
  auto of_task = api_harness::body_of(api.call("GET", std::string("/v2/tasks/") + ok_task + "/executions"));
  CHECK(of_task["executions"].empty());
  auto errors = api_harness::body_of(api.call("GET", std::string("/v2/tasks/") + parent_task +
                                                       "/executions?errors_only=true&include_output=true"));
  REQUIRE(errors["executions"].size() == 1);
  CHECK(errors["executions"][0].contains("output"));
  auto bad = api.call("GET", "/v2/executions/abc/executions");
  CHECK(bad.status == 400);
  auto missing = api.call("GET", std::string("/v2/executions/") + ok_task + "/executions");
  CHECK(missing.status == 404);
  CHECK(api_harness::body_of(missing)["faultstring"] ==
        std::string("WorkflowExecution not found [id=") + ok_task + "]");
}

TEST_CASE("the execution report nests tasks, actions and sub-workflows with statistics") {
  api_harness api;
  seed(api);
  auto r = api.call("GET", std::string("/v2/executions/") + root_id + "/report");
  REQUIRE(r.status == 200);
  json body = api_harness::body_of(r);
  CHECK(body["statistics"].dump() ==
        R"({"total_tasks_count":3,"running_tasks_count":0,"success_tasks_count":1,"error_tasks_count":2,)"
        R"("idle_tasks_count":0,"paused_tasks_count":0,"estimated_time":0})");
  json root = body["root_workflow_execution"];
  CHECK(root["name"] == "parent");
  REQUIRE(root["task_executions"].size() == 2);
  json t1 = root["task_executions"][0];
  std::vector<std::string> keys;
  for (auto it = t1.begin(); it != t1.end(); ++it)
    keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"action_executions", "workflow_executions", "retry_count", "id",
                                         "name", "created_at", "updated_at", "state", "state_info"});
  CHECK(t1["retry_count"] == 1);
  CHECK(t1["action_executions"].empty()); // the sub-workflow link is not an action here
  json child = t1["workflow_executions"][0];
  CHECK(child["id"] == child_id);
  CHECK(child["task_executions"][0]["action_executions"][0]["accepted"] == true);

  json errors = api_harness::body_of(
    api.call("GET", std::string("/v2/executions/") + root_id + "/report?errors_only=true&max_depth=0"));
  CHECK(errors["statistics"]["total_tasks_count"] == 1);
  CHECK(errors["root_workflow_execution"]["task_executions"].size() == 1);
  CHECK_FALSE(errors["root_workflow_execution"]["task_executions"][0]["workflow_executions"][0].contains(
    "task_executions"));
  // WSME reads query booleans with bool(text): "false" is true, "" is false.
  json quirk = api_harness::body_of(api.call("GET", std::string("/v2/executions/") + root_id +
                                                      "/report?statistics_only=1&errors_only=false"));
  CHECK(quirk["statistics"]["total_tasks_count"] == 2);
  json empty = api_harness::body_of(
    api.call("GET", std::string("/v2/executions/") + root_id + "/report?statistics_only=1&errors_only="));
  CHECK(empty["statistics"]["total_tasks_count"] == 3);
  json stats = api_harness::body_of(
    api.call("GET", std::string("/v2/executions/") + root_id + "/report?statistics_only=true"));
  CHECK_FALSE(stats.contains("root_workflow_execution"));
  CHECK(stats["statistics"]["total_tasks_count"] == 3);
}

TEST_CASE("an executions listing with fields answers the full listing's items cut to those fields") {
  api_harness api;
  seed(api);
  auto full_of = [&](const std::string& query) {
    auto r = api.call("GET", "/v2/executions?" + query);
    REQUIRE(r.status == 200);
    return api_harness::body_of(r);
  };
  for (const std::string fields :
       {"id,state", "state", "state,id,tags", "input,params,created_at", "output", "published_global",
        "description,workflow_name,project_id,updated_at,task_execution_id,root_execution_id"}) {
    for (const std::string extra : {"", "&include_output=true", "&limit=1&sort_keys=workflow_name"}) {
      CAPTURE(fields);
      CAPTURE(extra);
      json full = full_of(extra.empty() ? "" : extra.substr(1));
      json cut = full_of("fields=" + fields + extra);
      REQUIRE(cut["executions"].size() == full["executions"].size());
      std::string wanted = "," + fields + ",id,";
      for (std::size_t i = 0; i < full["executions"].size(); ++i) {
        json expected = json::object();
        for (auto it = full["executions"][i].begin(); it != full["executions"][i].end(); ++it)
          if (wanted.find("," + it.key() + ",") != std::string::npos)
            expected[it.key()] = it.value();
        CHECK(cut["executions"][i] == expected); // ordered: same keys in the same order
      }
      CHECK(cut.contains("next") == full.contains("next"));
    }
  }
}

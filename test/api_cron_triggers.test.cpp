#include "test/api_harness.hpp"

#include <doctest/doctest.h>

using mistral::json;
using mistral::test::api_harness;

namespace {

const char* wf_text =
  "---\nversion: '2.0'\nhello_wf:\n  input:\n    - name\n  tasks:\n    t1:\n      action: std.noop\n";

std::string create_workflow(api_harness& h) {
  auto r = h.call("POST", "/v2/workflows", wf_text, "text/plain");
  REQUIRE(r.status == 201);
  return api_harness::body_of(r)["workflows"][0]["id"];
}

std::string trigger_body(const std::string& name, const std::string& pattern, const std::string& extra = "") {
  return R"({"name": ")" + name +
         R"(", "workflow_name": "hello_wf", "workflow_input": "{\"name\": \"Cron\"}", )" + R"("pattern": ")" +
         pattern + "\"" + extra + "}";
}

} // namespace

TEST_CASE("a cron trigger is created with Mistral's shape: JSON-string input, next time, no updated_at") {
  api_harness h;
  std::string wf_id = create_workflow(h);
  auto r = h.call("POST", "/v2/cron_triggers",
                  trigger_body("sample_cron", "0 5 * * *", R"(, "remaining_executions": 2)"));
  REQUIRE(r.status == 201);
  auto b = api_harness::body_of(r);
  std::vector<std::string> keys;
  for (auto it = b.begin(); it != b.end(); ++it)
    keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"id", "name", "workflow_name", "workflow_id", "workflow_input",
                                         "workflow_params", "project_id", "scope", "pattern",
                                         "remaining_executions", "first_execution_time",
                                         "next_execution_time", "created_at"});
  CHECK(b["workflow_id"] == wf_id);
  CHECK(b["workflow_input"] == "{\"name\": \"Cron\"}");
  CHECK(b["workflow_params"] == "{}");
  CHECK(b["project_id"] == "<default-project>");
  CHECK(b["scope"] == "private");
  CHECK(b["remaining_executions"] == 2);
  CHECK(b["first_execution_time"].is_null());
  CHECK(b["next_execution_time"].get<std::string>().substr(10) == " 05:00:00");

  auto by_name = api_harness::body_of(h.call("GET", "/v2/cron_triggers/sample_cron"));
  CHECK(by_name["updated_at"].is_null());
  auto by_id = api_harness::body_of(h.call("GET", "/v2/cron_triggers/" + b["id"].get<std::string>()));
  CHECK(by_id == by_name);
}

TEST_CASE("a first execution time alone stores the never pattern and a count of one") {
  api_harness h;
  create_workflow(h);
  auto r =
    h.call("POST", "/v2/cron_triggers",
           R"({"name": "once", "workflow_name": "hello_wf", "workflow_input": {"name": "x"}, )"
           R"("workflow_params": "{\"env\": {\"x\": 1}}", "first_execution_time": "2099-06-01 10:30"})");
  REQUIRE(r.status == 201);
  auto b = api_harness::body_of(r);
  CHECK(b["pattern"] == "0 0 30 2 0");
  CHECK(b["remaining_executions"] == 1);
  CHECK(b["first_execution_time"] == "2099-06-01 10:30:00");
  CHECK(b["next_execution_time"] == "2099-06-01 10:30:00");
  CHECK(b["workflow_params"] == "{\"env\": {\"x\": 1}}");
}

TEST_CASE("bad cron trigger requests get Mistral's status codes and texts") {
  api_harness h;
  create_workflow(h);
  auto bad_pattern = h.call("POST", "/v2/cron_triggers",
                            R"({"name": "bad_cron", "workflow_name": "hello_wf", "pattern": "not a cron"})");
  CHECK(bad_pattern.status == 400);
  CHECK(bad_pattern.body ==
        "{\"faultcode\": \"Client\", \"faultstring\": \"The specified pattern is not valid: "
        "not a cron\", \"debuginfo\": null}");
  struct error_case {
    std::string body;
    int status;
    std::string text;
  };
  const error_case cases[] = {
    {trigger_body("c", "* * * * *", R"(, "bogus": 1)"), 400,
     "Unknown attribute for argument cron_trigger: bogus"},
    {trigger_body("c", "* * * * *", R"(, "remaining_executions": 0)"), 400,
     "Invalid input for field/attribute remaining_executions. Value: '0'. Value should be greater or equal "
     "to 1"},
    {trigger_body("c", "* * * * *", R"(, "scope": "bad")"), 400,
     "Invalid input for field/attribute scope. Value: 'bad'. Value should be one of: public, private"},
    {trigger_body("c", "* * * * *", R"(, "scope": "public")"), 403,
     "Operation forbidden (insufficient permissions)"},
    {R"({"name": "c", "workflow_name": "hello_wf", "workflow_input": {"name": "x"}})", 400,
     "Pattern or first_execution_time must be specified."},
    {R"({"name": "c", "workflow_name": "hello_wf", "first_execution_time": "2020-01-01 00:00"})", 400,
     "first_execution_time must be at least 1 minute in the future."},
    {R"({"name": "c", "workflow_name": "hello_wf", "first_execution_time": "2099-01-01 00:00", "remaining_executions": 3})",
     400, "Pattern must be provided if count is superior to 1."},
    {R"({"name": "c", "workflow_name": "hello_wf", "pattern": "* * * * *", "first_execution_time": "bad"})",
     400, "time data 'bad' does not match format '%Y-%m-%d %H:%M'"},
    {R"({"name": "c", "workflow_name": "nope", "pattern": "* * * * *"})", 404,
     "Workflow not found [workflow_identifier=nope, namespace=]"},
    {R"({"name": "c", "pattern": "* * * * *"})", 404,
     "Workflow not found [workflow_identifier=None, namespace=]"},
    {R"({"name": "c", "workflow_name": "hello_wf", "pattern": "* * * * *"})", 400,
     "Invalid input [name=hello_wf, class=DirectWorkflowSpec, missing=['name']]"},
    {trigger_body("c", "0 0 30 2 *"), 500, "failed to find next date"},
    {R"({"workflow_name": "hello_wf", "pattern": "* * * * *"})", 500, "'name'"},
    {"[1]", 500, "'list' object has no attribute 'keys'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto r = h.call("POST", "/v2/cron_triggers", c.body);
    CHECK(r.status == c.status);
    auto b = api_harness::body_of(r);
    CHECK(b["faultstring"] == c.text);
    CHECK(b["faultcode"] == (c.status < 500 ? "Client" : "Server"));
  }
  REQUIRE(h.call("POST", "/v2/cron_triggers", trigger_body("dup", "* * * * *")).status == 201);
  auto dup = h.call("POST", "/v2/cron_triggers", trigger_body("dup", "1 * * * *"));
  CHECK(dup.status == 409);
  CHECK(api_harness::body_of(dup)["faultstring"] ==
        "Duplicate entry for cron trigger ['name', 'project_id']: dup, None");
  // The same schedule, workflow, input and params under another name (tempest).
  const std::string same = R"(, "workflow_input": {"name": "x"}, "pattern": "5 * * * *", )"
                           R"("first_execution_time": "4242-12-25 13:37", "remaining_executions": "42"})";
  REQUIRE(
    h.call("POST", "/v2/cron_triggers", R"({"name": "s1", "workflow_name": "hello_wf")" + same).status ==
    201);
  auto same_schedule =
    h.call("POST", "/v2/cron_triggers", R"({"name": "s2", "workflow_name": "hello_wf")" + same);
  CHECK(same_schedule.status == 409);
  CHECK(api_harness::body_of(same_schedule)["faultstring"] ==
        "Duplicate entry for cron trigger ['name', 'project_id']: s2, None");
  auto missing = h.call("GET", "/v2/cron_triggers/nope");
  CHECK(missing.status == 404);
  CHECK(api_harness::body_of(missing)["faultstring"] == "Cron trigger not found [identifier=nope]");
  CHECK(h.call("DELETE", "/v2/cron_triggers/nope").status == 404);
}

TEST_CASE("cron trigger lists page with next links, filter and select fields") {
  api_harness h;
  create_workflow(h);
  for (const char* n : {"a", "b", "c"})
    REQUIRE(h.call("POST", "/v2/cron_triggers",
                   trigger_body(n, std::string("0 ") + (n[0] == 'a' ? "1" : "2") + " * * *"))
              .status == 201);
  auto page = api_harness::body_of(h.call("GET", "/v2/cron_triggers?limit=2&sort_keys=name"));
  REQUIRE(page["cron_triggers"].size() == 2);
  CHECK(page["cron_triggers"][0]["name"] == "a");
  std::string last = page["cron_triggers"][1]["id"];
  CHECK(page["next"] ==
        "http://127.0.0.1:8989/v2/cron_triggers?sort_keys=name,id&sort_dirs=asc,asc&limit=2&marker=" + last);
  auto rest = api_harness::body_of(h.call("GET", "/v2/cron_triggers?limit=2&sort_keys=name&marker=" + last));
  REQUIRE(rest["cron_triggers"].size() == 1);
  CHECK(rest["cron_triggers"][0]["name"] == "c");
  CHECK_FALSE(rest.contains("next"));
  auto filtered =
    api_harness::body_of(h.call("GET", "/v2/cron_triggers?pattern=0%202%20*%20*%20*&fields=name,pattern"));
  REQUIRE(filtered["cron_triggers"].size() == 2);
  CHECK(filtered["cron_triggers"][0] ==
        json{{"id", filtered["cron_triggers"][0]["id"]}, {"name", "b"}, {"pattern", "0 2 * * *"}});
  auto has = api_harness::body_of(h.call("GET", "/v2/cron_triggers?name=has:b"));
  CHECK(has["cron_triggers"].size() == 1);
  auto bad_marker = h.call("GET", "/v2/cron_triggers?marker=abc");
  CHECK(bad_marker.status == 400);
  CHECK(h.call("GET", "/v2/cron_triggers?limit=0").status == 400);
  auto bad_field = h.call("GET", "/v2/cron_triggers?fields=bogus");
  CHECK(bad_field.status == 400);
}

TEST_CASE("a workflow used by a cron trigger cannot be deleted until the trigger is") {
  api_harness h;
  create_workflow(h);
  auto t = api_harness::body_of(h.call("POST", "/v2/cron_triggers", trigger_body("hold", "0 5 * * *")));
  auto blocked = h.call("DELETE", "/v2/workflows/hello_wf");
  CHECK(blocked.status == 400);
  CHECK(blocked.body ==
        "{\"faultcode\": \"Client\", \"faultstring\": \"Can't delete workflow that has cron triggers "
        "associated. [workflow_identifier=hello_wf, namespace=], [cron_trigger_id(s)=" +
          t["id"].get<std::string>() + "]\", \"debuginfo\": null}");
  CHECK(h.call("DELETE", "/v2/cron_triggers/hold").status == 204);
  CHECK(h.call("DELETE", "/v2/workflows/hello_wf").status == 204);
}

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

std::string trigger_body(const std::string& wf_id, const std::string& event) {
  return R"({"name": "et", "workflow_id": ")" + wf_id +
         R"(", "exchange": "openstack", "topic": "notifications", "event": ")" + event +
         R"(", "workflow_input": "{\"name\": \"evt\"}", "workflow_params": {"env": {"a": 1}}})";
}

std::string faultstring(const mistral::api::http_response& r) {
  return api_harness::body_of(r)["faultstring"];
}

} // namespace

TEST_CASE("an event trigger is created, read, updated and deleted in Mistral's shape") {
  api_harness h;
  std::string wf = create_workflow(h);
  auto created = h.call("POST", "/v2/event_triggers", trigger_body(wf, "compute.instance.create.end"));
  REQUIRE(created.status == 201);
  auto b = api_harness::body_of(created);
  std::vector<std::string> keys;
  for (auto it = b.begin(); it != b.end(); ++it)
    keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"id", "created_at", "updated_at", "project_id", "name",
                                         "workflow_id", "workflow_input", "workflow_params", "exchange",
                                         "topic", "event", "scope"});
  CHECK(b["updated_at"].is_null());
  CHECK(b["workflow_input"] == "{\"name\": \"evt\"}");
  CHECK(b["workflow_params"] == "{\"env\": {\"a\": 1}}");
  CHECK(b["scope"] == "private");
  std::string id = b["id"];
  CHECK(api_harness::body_of(h.call("GET", "/v2/event_triggers/" + id)) == b);

  auto updated =
    h.call("PUT", "/v2/event_triggers/" + id, R"({"name": "renamed", "workflow_params": {"p": 1}})");
  REQUIRE(updated.status == 200);
  CHECK(api_harness::body_of(updated)["name"] == "renamed");
  CHECK(api_harness::body_of(updated)["workflow_params"] == "{\"p\": 1}");
  CHECK(api_harness::body_of(updated)["updated_at"].is_string());
  auto fixed = h.call("PUT", "/v2/event_triggers/" + id, R"({"exchange": "x"})");
  CHECK(fixed.status == 400);
  CHECK(faultstring(fixed) == "Can not update fields ['exchange', 'topic', 'event'] of event trigger.");

  auto blocked = h.call("DELETE", "/v2/workflows/hello_wf");
  CHECK(blocked.status == 400);
  CHECK(faultstring(blocked) == "Can't delete workflow that has event triggers associated. "
                                "[workflow_identifier=hello_wf], [event_trigger_id(s)=" +
                                  id + "]");
  CHECK(h.call("DELETE", "/v2/event_triggers/" + id).status == 204);
  auto gone = h.call("GET", "/v2/event_triggers/" + id);
  CHECK(gone.status == 404);
  CHECK(faultstring(gone) == "Event trigger not found [id=" + id + "].");
}

TEST_CASE("bad event trigger requests get Mistral's answers") {
  api_harness h;
  std::string wf = create_workflow(h);
  auto missing = h.call("POST", "/v2/event_triggers", R"({"name": "x", "workflow_id": ")" + wf + "\"}");
  CHECK(missing.status == 400);
  CHECK(faultstring(missing) ==
        "Params {'workflow_id', 'exchange', 'event', 'topic'} must be provided for creating event trigger.");
  auto not_uuid = h.call("POST", "/v2/event_triggers", trigger_body("nope", "e"));
  CHECK(not_uuid.status == 400);
  CHECK(faultstring(not_uuid) == "Expected a uuid but received nope.");
  auto unknown =
    h.call("POST", "/v2/event_triggers", trigger_body("0b2a8f50-0c09-4bd4-9d8e-6b7c4f3a7f43", "e"));
  CHECK(unknown.status == 404);
  CHECK(faultstring(unknown) == "Workflow not found [workflow_id=0b2a8f50-0c09-4bd4-9d8e-6b7c4f3a7f43]");
  auto bad_input = h.call("POST", "/v2/event_triggers",
                          R"({"workflow_id": ")" + wf + R"(", "exchange": "e", "topic": "t", "event": "v"})");
  CHECK(bad_input.status == 400);
  CHECK(faultstring(bad_input) ==
        "Invalid input [name=hello_wf, class=DirectWorkflowSpec, missing=['name']]");
  auto read_only = h.call("POST", "/v2/event_triggers", R"({"id": "0b2a8f50-0c09-4bd4-9d8e-6b7c4f3a7f43"})");
  CHECK(read_only.status == 400);
  CHECK(faultstring(read_only) == "Invalid input for field/attribute id. Value: "
                                  "'0b2a8f50-0c09-4bd4-9d8e-6b7c4f3a7f43'. Cannot set read only field.");
  REQUIRE(h.call("POST", "/v2/event_triggers", trigger_body(wf, "e1")).status == 201);
  auto dup = h.call("POST", "/v2/event_triggers", trigger_body(wf, "e1"));
  CHECK(dup.status == 409);
  CHECK(faultstring(dup) == "Duplicate entry for EventTrigger ['exchange', 'topic', 'event', 'workflow_id', "
                            "'project_id']: openstack, notifications, e1, " +
                              wf + ", None");
  auto bad_id = h.call("GET", "/v2/event_triggers/nope");
  CHECK(bad_id.status == 400);
  CHECK(faultstring(bad_id) ==
        "Invalid input for field/attribute id. Value: 'nope'. unable to convert to uuid. "
        "Error: Expected a uuid but received nope.");
  // Mistral 15 fails on every filter of this listing (LIVE 500).
  auto filtered = h.call("GET", "/v2/event_triggers?name=et");
  CHECK(filtered.status == 500);
  CHECK(faultstring(filtered) == "'NoneType' object has no attribute 'datatype'");
}

TEST_CASE("event trigger lists page with next links") {
  api_harness h;
  std::string wf = create_workflow(h);
  for (const char* e : {"e1", "e2", "e3"})
    REQUIRE(h.call("POST", "/v2/event_triggers", trigger_body(wf, e)).status == 201);
  auto page = api_harness::body_of(h.call("GET", "/v2/event_triggers?limit=2&sort_keys=event&fields=event"));
  REQUIRE(page["event_triggers"].size() == 2);
  CHECK(page["event_triggers"][1]["event"] == "e2");
  std::string last = page["event_triggers"][1]["id"];
  CHECK(page["next"] ==
        "http://127.0.0.1:8989/v2/event_triggers?sort_keys=event,id&sort_dirs=asc,asc&limit=2&marker=" +
          last + "&fields=id,event");
  auto rest =
    api_harness::body_of(h.call("GET", "/v2/event_triggers?limit=2&sort_keys=event&marker=" + last));
  REQUIRE(rest["event_triggers"].size() == 1);
  CHECK(rest["event_triggers"][0]["event"] == "e3");
}

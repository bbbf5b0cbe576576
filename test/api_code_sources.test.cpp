#include "test/api_harness.hpp"

#include "api/services_controller.hpp"

#include <doctest/doctest.h>

using mistral::json;
using mistral::test::api_harness;

namespace {

const char* forbidden_wsme =
  "{\"faultcode\": \"Client\", \"faultstring\": \"Operation forbidden (insufficient permissions)\", "
  "\"debuginfo\": null}";

std::string faultstring(const mistral::api::http_response& r) {
  return api_harness::body_of(r)["faultstring"];
}

} // namespace

TEST_CASE("code sources and dynamic actions are admin only, in both of Mistral's error formats") {
  api_harness h;
  auto list = h.call("GET", "/v2/code_sources");
  CHECK(list.status == 403);
  CHECK(list.body == forbidden_wsme);
  auto create = h.call("POST", "/v2/code_sources?name=cs", "x = 1", "text/plain");
  CHECK(create.status == 403);
  CHECK(create.body == "{\"faultstring\": \"Operation forbidden (insufficient permissions)\"}");
  CHECK(h.call("DELETE", "/v2/code_sources/cs").body == forbidden_wsme);
  CHECK(h.call("GET", "/v2/dynamic_actions").body == forbidden_wsme);
  CHECK(h.call("PUT", "/v2/dynamic_actions", "{}").status == 403);
}

TEST_CASE("a code source is versioned by its updates and namespaced") {
  api_harness h;
  h.set_header("x-roles", "admin");
  auto created = h.call("POST", "/v2/code_sources?name=cs", "x = 1\n", "text/plain");
  REQUIRE(created.status == 201);
  auto b = api_harness::body_of(created);
  CHECK(b["version"] == 1);
  CHECK(b["content"] == "x = 1\n");
  CHECK(b["namespace"] == "");
  CHECK_FALSE(b.contains("updated_at")); // pecan's to_json drops nulls
  auto dup = h.call("POST", "/v2/code_sources?name=cs", "y", "text/plain");
  CHECK(dup.status == 409);
  CHECK(
    dup.body ==
    "{\"faultstring\": \"Duplicate entry for CodeSource ['name', 'namespace', 'project_id']: cs, , None\"}");
  auto updated = h.call("PUT", "/v2/code_sources/cs", "x = 2\n", "text/plain");
  REQUIRE(updated.status == 200);
  CHECK(api_harness::body_of(updated)["version"] == 2);
  CHECK(api_harness::body_of(updated)["updated_at"].is_string());
  auto by_query =
    h.call("PUT", "/v2/code_sources?identifier=cs&scope=private&namespace=", "x = 3\n", "text/plain");
  REQUIRE(by_query.status == 200);
  CHECK(api_harness::body_of(by_query)["version"] == 3);
  auto missing = h.call("PUT", "/v2/code_sources/nope", "z", "text/plain");
  CHECK(missing.status == 404);
  CHECK(missing.body == "{\"faultstring\": \"Code Source not found [name=nope,namespace=]\"}");
  REQUIRE(h.call("POST", "/v2/code_sources?name=cs&namespace=ns1", "n", "text/plain").status == 201);
  CHECK(api_harness::body_of(h.call("GET", "/v2/code_sources/cs?namespace=ns1"))["content"] == "n");
  auto got = api_harness::body_of(h.call("GET", "/v2/code_sources/cs"));
  CHECK(got["content"] == "x = 3\n");
  CHECK_FALSE(got.contains("actions"));
  auto listed = api_harness::body_of(h.call("GET", "/v2/code_sources?namespace=ns1"));
  REQUIRE(listed["code_sources"].size() == 1);
  CHECK(listed["code_sources"][0]["updated_at"].is_null());
  CHECK(h.call("POST", "/v2/code_sources", "x", "text/plain").status == 500);
}

TEST_CASE("a dynamic action binds to a std action class of a code source") {
  api_harness h;
  h.set_header("x-roles", "admin");
  REQUIRE(h.call("POST", "/v2/code_sources?name=cs", "class X: pass\n", "text/plain").status == 201);
  auto created = h.call("POST", "/v2/dynamic_actions",
                        R"({"name": "dyn", "class_name": "EchoAction", "code_source_name": "cs"})");
  REQUIRE(created.status == 201);
  auto b = api_harness::body_of(created);
  CHECK(b["namespace"] == "");
  CHECK(b["code_source_name"] == "cs");
  CHECK_FALSE(b.contains("updated_at"));
  // It is listed among the actions as Mistral lists Python actions.
  auto as_action = api_harness::body_of(h.call("GET", "/v2/actions/dyn"));
  CHECK(as_action["id"] == "dyn");
  CHECK(as_action["input"] == "output, delay=0");
  CHECK(as_action["scope"] == "private");
  CHECK(as_action["project_id"] == "<default-project>");
  CHECK(as_action["created_at"] == "");
  auto listed = api_harness::body_of(h.call("GET", "/v2/actions?name=dyn"));
  REQUIRE(listed["actions"].size() == 1);
  CHECK(listed["actions"][0] == as_action);
  auto dup = h.call("POST", "/v2/dynamic_actions",
                    R"({"name": "dyn", "class_name": "EchoAction", "code_source_name": "cs"})");
  CHECK(dup.status == 409);
  CHECK(faultstring(dup) ==
        "Duplicate entry for dynamic action definition [name=dyn, namespace=, project_id=None]");
  auto no_source = h.call("POST", "/v2/dynamic_actions", R"({"name": "d2", "class_name": "EchoAction"})");
  CHECK(no_source.status == 400);
  CHECK(faultstring(no_source) == "Either 'code_source_id' or 'code_source_name' must be provided.");
  auto unknown_source = h.call("POST", "/v2/dynamic_actions",
                               R"({"name": "d3", "class_name": "EchoAction", "code_source_name": "nope"})");
  CHECK(unknown_source.status == 404);
  CHECK(faultstring(unknown_source) == "Code Source not found [name=nope,namespace=]");
  auto python_class = h.call("POST", "/v2/dynamic_actions",
                             R"({"name": "d4", "class_name": "HelloAction", "code_source_name": "cs"})");
  CHECK(python_class.status == 400);
  CHECK(faultstring(python_class).find("Dynamic action class 'HelloAction' cannot be used") == 0);

  auto updated = h.call("PUT", "/v2/dynamic_actions",
                        R"({"name": "dyn", "class_name": "mistral.actions.std_actions.NoOpAction"})");
  REQUIRE(updated.status == 200);
  CHECK(api_harness::body_of(updated)["class_name"] == "mistral.actions.std_actions.NoOpAction");
  CHECK(api_harness::body_of(updated)["updated_at"].is_string());
  auto nameless = h.call("PUT", "/v2/dynamic_actions", R"({"class_name": "EchoAction"})");
  CHECK(nameless.status == 400);
  CHECK(faultstring(nameless) == "Either 'name' or 'id' must be provided.");
  CHECK(api_harness::body_of(h.call("GET", "/v2/dynamic_actions/dyn"))["class_name"] ==
        "mistral.actions.std_actions.NoOpAction");
  CHECK(api_harness::body_of(h.call("GET", "/v2/dynamic_actions?name=dyn"))["dynamic_actions"].size() == 1);

  // Deleting the code source deletes its dynamic actions.
  CHECK(h.call("DELETE", "/v2/code_sources/cs").status == 204);
  auto gone = h.call("GET", "/v2/dynamic_actions/dyn");
  CHECK(gone.status == 404);
  CHECK(faultstring(gone) == "Dynamic Action not found [name=dyn,namespace=]");
}

TEST_CASE("services answer 406 without a cluster, members 400 without authentication") {
  api_harness h;
  auto services = h.call("GET", "/v2/services");
  CHECK(services.status == 406);
  CHECK(
    services.body ==
    "{\"faultcode\": \"Client\", \"faultstring\": \"Service API is not supported.\", \"debuginfo\": null}");
  const std::string wf = "/v2/workflows/0b2a8f50-0c09-4bd4-9d8e-6b7c4f3a7f43/members";
  const std::string expected =
    "{\"faultstring\": \"Resource sharing feature can only be supported with authentication enabled.\"}";
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
         {"GET", wf}, {"POST", wf}, {"GET", wf + "/p"}, {"PUT", wf + "/p"}, {"DELETE", wf + "/p"}}) {
    CAPTURE(method + " " + path);
    auto r = h.call(method, path, R"({"member_id": "p"})");
    CHECK(r.status == 400);
    CHECK(r.body == expected);
  }
  CHECK(h.call("GET", "/v2/workflows/abc/members").status == 500);
}

TEST_CASE("in cluster mode services list this node's roles as Mistral's groups") {
  api_harness h;
  auto cfg = std::make_shared<mistral::config::config>();
  cfg->set("coordination", "backend_url", "caf://seed");
  cfg->set("cluster", "node_name", "node-1");
  auto ctx = std::make_shared<mistral::api::api_context>(*h.context());
  ctx->cfg = cfg;
  mistral::api::router r;
  mistral::api::add_service_routes(r, ctx);
  mistral::api::http_request req;
  req.method = "GET";
  req.path = "/v2/services";
  mistral::api::http_response out;
  r.dispatch(req, [&](mistral::api::http_response resp) { out = std::move(resp); });
  CHECK(out.status == 200);
  CHECK(out.body == "{\"services\": [{\"name\": \"node-1\", \"type\": \"api_group\"}, {\"name\": \"node-1\", "
                    "\"type\": \"engine_group\"}, {\"name\": \"node-1\", \"type\": \"executor_group\"}]}");
}

TEST_CASE("in a running cluster services list every live node and role from the directory") {
  api_harness h;
  auto ctx = std::make_shared<mistral::api::api_context>(*h.context());
  ctx->cluster_members = [](std::function<void(mistral::result<std::string>)> done) {
    done(std::string(R"([{"name":"api","roles":["api"]},{"name":"engine-1","roles":["engine"]},)"
                     R"({"name":"x-1","roles":["executor","notifier"]}])"));
  };
  mistral::api::router r;
  mistral::api::add_service_routes(r, ctx);
  mistral::api::http_request req;
  req.method = "GET";
  req.path = "/v2/services";
  mistral::api::http_response out;
  r.dispatch(req, [&](mistral::api::http_response resp) { out = std::move(resp); });
  CHECK(out.status == 200);
  CHECK(out.body == "{\"services\": [{\"name\": \"api\", \"type\": \"api_group\"}, {\"name\": \"engine-1\", "
                    "\"type\": \"engine_group\"}, {\"name\": \"x-1\", \"type\": \"executor_group\"}, "
                    "{\"name\": \"x-1\", \"type\": \"notifier_group\"}]}");
}

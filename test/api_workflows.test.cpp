#include "dsl/definition_text.hpp"
#include "test/api_harness.hpp"

#include <doctest/doctest.h>

using mistral::json;
using mistral::test::api_harness;

namespace {

const char* hello_wf = R"(---
version: '2.0'

hello_wf:
  description: Sample greeting workflow
  tags: [sample]
  input:
    - name
    - greeting: Hello
  output:
    message: <% $.message %>
    finished: <% $.finished %>
  tasks:
    compose:
      action: std.echo output="<% $.greeting %>, <% $.name %>!"
      publish:
        message: <% task().result %>
      on-success:
        - finish
    finish:
      action: std.noop
)";

const char* two_wfs = R"(---
version: '2.0'

wf_a:
  tags: [t1, t2]
  input:
    - xs: [1, 2, 3]
  tasks:
    t1:
      action: std.echo output="x"
wf_b:
  tasks:
    t1:
      action: std.noop
)";

std::string ns_doc(const std::string& name) {
  return "---\nversion: '2.0'\n" + name + ":\n  tasks:\n    t1:\n      action: std.noop\n";
}

mistral::api::http_response call_with_accept(api_harness& h, const std::string& method,
                                             const std::string& path, const std::string& body,
                                             const std::string& accept) {
  mistral::api::http_request req;
  req.method = method;
  req.path = path;
  req.headers["host"] = "127.0.0.1:8989";
  req.headers["content-type"] = "text/plain";
  req.headers["accept"] = accept;
  req.body = body;
  mistral::api::http_response out;
  h.routes().dispatch(req, [&](mistral::api::http_response r) { out = std::move(r); });
  return out;
}

} // namespace

TEST_CASE("creating a workflow answers 201 in the pecan shape with interface as an object") {
  api_harness h;
  auto r = h.call("POST", "/v2/workflows", hello_wf, "text/plain");
  REQUIRE(r.status == 201);
  auto wf = api_harness::body_of(r)["workflows"][0];
  CHECK(wf["name"] == "hello_wf");
  CHECK(wf["namespace"] == "");
  CHECK(wf["input"] == "name, greeting=\"Hello\"");
  CHECK(wf["interface"] ==
        json::parse(R"({"input": ["name", {"greeting": "Hello"}], "output": ["message", "finished"]})"));
  CHECK(wf["definition"] == hello_wf);
  CHECK(wf["tags"] == json::array({"sample"}));
  CHECK(wf["scope"] == "private");
  CHECK(wf["project_id"] == "<default-project>");
  CHECK_FALSE(wf.contains("updated_at"));
  CHECK(r.body.find("{\"workflows\": [{\"id\": ") == 0);
}

TEST_CASE("getting a workflow by name or id answers the WSME shape with interface as a string") {
  api_harness h;
  auto created =
    api_harness::body_of(h.call("POST", "/v2/workflows", hello_wf, "text/plain"))["workflows"][0];
  auto by_name = h.call("GET", "/v2/workflows/hello_wf");
  REQUIRE(by_name.status == 200);
  auto b = api_harness::body_of(by_name);
  CHECK(b["interface"] ==
        "{\"input\": [\"name\", {\"greeting\": \"Hello\"}], \"output\": [\"message\", \"finished\"]}");
  CHECK(b["updated_at"].is_null());
  CHECK(by_name.body.find("\"updated_at\": null}") != std::string::npos);
  auto by_id = h.call("GET", "/v2/workflows/" + created["id"].get<std::string>());
  CHECK(by_id.status == 200);
  CHECK(api_harness::body_of(by_id)["name"] == "hello_wf");
}

TEST_CASE("a missing workflow is a WSME 404 naming identifier and namespace") {
  api_harness h;
  auto r = h.call("GET", "/v2/workflows/no_such_wf");
  CHECK(r.status == 404);
  CHECK(r.body ==
        "{\"faultcode\": \"Client\", \"faultstring\": \"Workflow not found [workflow_identifier=no_such_wf, "
        "namespace=]\", \"debuginfo\": null}");
}

TEST_CASE("a duplicate workflow is a 409 with Mistral's text and nothing of the request is kept") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/workflows", hello_wf, "text/plain").status == 201);
  auto r = h.call("POST", "/v2/workflows", hello_wf, "text/plain");
  CHECK(r.status == 409);
  CHECK(r.body ==
        "{\"faultstring\": \"Duplicate entry for WorkflowDefinition ['name', 'namespace', 'project_id']: "
        "hello_wf, , None\"}");
  // wf_a is new, wf_b clashes: the whole request is undone.
  REQUIRE(h.call("POST", "/v2/workflows", ns_doc("wf_b"), "text/plain").status == 201);
  CHECK(h.call("POST", "/v2/workflows", two_wfs, "text/plain").status == 409);
  CHECK(h.call("GET", "/v2/workflows/wf_a").status == 404);
}

TEST_CASE("DSL errors are a 400 with the faultstring only") {
  api_harness h;
  auto r = h.call("POST", "/v2/workflows",
                  "---\nversion: '2.0'\nbad_ref:\n  tasks:\n    t1:\n      action: std.noop\n      "
                  "on-success: missing_task\n",
                  "text/plain");
  CHECK(r.status == 400);
  CHECK(r.body == "{\"faultstring\": \"Task 'missing_task' not found.\"}");
  auto yaml = h.call("POST", "/v2/workflows", "not: [valid", "text/plain");
  CHECK(yaml.status == 400);
  CHECK(api_harness::body_of(yaml)["faultstring"].get<std::string>().rfind("Definition could not be parsed: ",
                                                                           0) == 0);
}

TEST_CASE("definition endpoints refuse Accept application/json with pecan's 406") {
  api_harness h;
  auto r = call_with_accept(h, "POST", "/v2/workflows", hello_wf, "application/json");
  CHECK(r.status == 406);
  CHECK(r.body == "{\"code\": 406, \"title\": \"Not Acceptable\", \"description\": null}");
  CHECK(call_with_accept(h, "POST", "/v2/workflows", hello_wf, "*/*").status == 201);
}

TEST_CASE("a bad or public scope is refused") {
  api_harness h;
  auto bad = h.call("POST", "/v2/workflows?scope=everyone", hello_wf, "text/plain");
  CHECK(bad.status == 400);
  CHECK(api_harness::body_of(bad)["faultstring"] ==
        "Scope must be one of the following: {'private', 'public'}; actual: everyone");
  auto pub = h.call("POST", "/v2/workflows?scope=public", hello_wf, "text/plain");
  CHECK(pub.status == 403);
  CHECK(pub.body == "{\"faultstring\": \"Operation forbidden (insufficient permissions)\"}");
}

TEST_CASE("validate answers valid true or the error text") {
  api_harness h;
  auto ok = h.call("POST", "/v2/workflows/validate", hello_wf, "text/plain");
  CHECK(ok.status == 200);
  CHECK(ok.body == "{\"valid\": true}");
  auto bad =
    h.call("POST", "/v2/workflows/validate",
           "---\nversion: '2.0'\nw:\n  tasks:\n    t1:\n      action: std.noop\n      on-success: nope\n",
           "text/plain");
  CHECK(bad.status == 200);
  CHECK(bad.body == "{\"valid\": false, \"error\": \"Task 'nope' not found.\"}");
}

TEST_CASE("a multi-workflow document stores each workflow re-dumped with the version") {
  api_harness h;
  auto r = h.call("POST", "/v2/workflows", two_wfs, "text/plain");
  REQUIRE(r.status == 201);
  auto wfs = api_harness::body_of(r)["workflows"];
  REQUIRE(wfs.size() == 2);
  CHECK(
    wfs[0]["definition"] ==
    "version: '2.0'\nwf_a:\n  tags:\n  - t1\n  - t2\n  input:\n  - xs:\n    - 1\n    - 2\n    - 3\n  tasks:\n"
    "    t1:\n      action: std.echo output=\"x\"\n");
  CHECK(wfs[0]["input"] == "xs=\"[1, 2, 3]\"");
  CHECK(wfs[1]["definition"] == "version: '2.0'\nwf_b:\n  tasks:\n    t1:\n      action: std.noop\n");
}

TEST_CASE("updating workflows bumps updated_at only on change and can target one id") {
  api_harness h;
  auto created = api_harness::body_of(h.call("POST", "/v2/workflows", two_wfs, "text/plain"))["workflows"];
  REQUIRE(h.call("POST", "/v2/workflows", ns_doc("wf_c"), "text/plain").status == 201);
  auto same = h.call("PUT", "/v2/workflows", ns_doc("wf_c"), "text/plain");
  REQUIRE(same.status == 200);
  auto wf_c = api_harness::body_of(same)["workflows"][0];
  CHECK(wf_c["updated_at"].is_null()); // identical text: nothing changed
  std::string changed = ns_doc("wf_b") + "  description: changed\n";
  auto upd = h.call("PUT", "/v2/workflows/" + created[1]["id"].get<std::string>(), changed, "text/plain");
  REQUIRE(upd.status == 200);
  auto single = api_harness::body_of(upd);
  CHECK(single["name"] == "wf_b");
  CHECK(single["updated_at"].is_string());
  CHECK(single["interface"].is_object());
  auto many = h.call("PUT", "/v2/workflows/" + created[1]["id"].get<std::string>(), two_wfs, "text/plain");
  CHECK(many.status == 400);
  auto missing = h.call("PUT", "/v2/workflows", ns_doc("wf_zz"), "text/plain");
  CHECK(missing.status == 404);
  CHECK(missing.body == "{\"faultstring\": \"Workflow not found [workflow_identifier=wf_zz, namespace=]\"}");
}

TEST_CASE("namespaces keep same-named workflows apart") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/workflows", ns_doc("wf"), "text/plain").status == 201);
  auto in_ns = h.call("POST", "/v2/workflows?namespace=ns1", ns_doc("wf"), "text/plain");
  REQUIRE(in_ns.status == 201);
  CHECK(api_harness::body_of(in_ns)["workflows"][0]["namespace"] == "ns1");
  CHECK(h.call("GET", "/v2/workflows/wf?namespace=ns1").status == 200);
  auto other = h.call("GET", "/v2/workflows/wf?namespace=ns2");
  CHECK(api_harness::body_of(other)["faultstring"] ==
        "Workflow not found [workflow_identifier=wf, namespace=ns2]");
  auto listed = api_harness::body_of(h.call("GET", "/v2/workflows?namespace=ns1"))["workflows"];
  CHECK(listed.size() == 1);
  CHECK(h.call("DELETE", "/v2/workflows/wf?namespace=ns1").status == 204);
  CHECK(h.call("GET", "/v2/workflows/wf?namespace=ns1").status == 404);
  CHECK(h.call("GET", "/v2/workflows/wf").status == 200);
  CHECK(h.call("DELETE", "/v2/workflows/wf").status == 204);
  CHECK(h.call("DELETE", "/v2/workflows/wf").status == 404);
}

TEST_CASE("workflow lists page, select fields, filter and link the next page") {
  api_harness h;
  for (const char* n : {"wf_c", "wf_a", "wf_b"})
    REQUIRE(h.call("POST", "/v2/workflows", ns_doc(n), "text/plain").status == 201);
  auto page = h.call("GET", "/v2/workflows?limit=1&sort_keys=name&sort_dirs=asc&fields=name,tags");
  REQUIRE(page.status == 200);
  auto b = api_harness::body_of(page);
  REQUIRE(b["workflows"].size() == 1);
  auto first = b["workflows"][0];
  CHECK(first["name"] == "wf_a");
  CHECK(first.size() == 3);
  CHECK(b["next"] ==
        "http://127.0.0.1:8989/v2/workflows?sort_keys=name,id&sort_dirs=asc,asc&limit=1&marker=" +
          first["id"].get<std::string>() + "&fields=id,name,tags");
  auto with_input = api_harness::body_of(h.call("GET", "/v2/workflows?fields=name,input"))["workflows"][0];
  CHECK(with_input.contains("interface"));
  CHECK(with_input["interface"].is_string());
  auto has = api_harness::body_of(h.call("GET", "/v2/workflows?name=in:wf_a,wf_c&fields=name"))["workflows"];
  CHECK(has.size() == 2);
  auto bad = h.call("GET", "/v2/workflows?fields=foo");
  CHECK(bad.status == 400);
  CHECK(
    api_harness::body_of(bad)["faultstring"] ==
    "Some fields do not exist  [foo], please choose from [id, name, namespace, input, interface, definition, "
    "tags, scope, project_id, created_at, updated_at]");
}

TEST_CASE("an unknown sort key is the database layer's 500") {
  api_harness h;
  auto r = h.call("GET", "/v2/workflows?sort_keys=bogus");
  CHECK(r.status == 500);
  CHECK(r.body == "{\"faultcode\": \"Server\", \"faultstring\": \"Sort key supplied is invalid: bogus\", "
                  "\"debuginfo\": null}");
}

TEST_CASE("a workflow list marker must be an existing workflow's UUID") {
  api_harness h;
  auto bad = h.call("GET", "/v2/workflows?marker=abc");
  CHECK(bad.status == 400);
  CHECK(api_harness::body_of(bad)["faultstring"] ==
        "Invalid input for field/attribute marker. Value: 'abc'. unable "
        "to convert to uuid. Error: Expected a uuid but received abc.");
  auto missing = h.call("GET", "/v2/workflows?limit=1&marker=00000000-0000-0000-0000-000000000000");
  CHECK(missing.status == 404);
  CHECK(api_harness::body_of(missing)["faultstring"] ==
        "Workflow not found [workflow_id=00000000-0000-0000-0000-000000000000]");
}

TEST_CASE("following next links walks a descending list without repeats") {
  api_harness h;
  for (const char* n : {"pa", "pb", "pc"})
    REQUIRE(h.call("POST", "/v2/workflows", ns_doc(n), "text/plain").status == 201);
  std::string path = "/v2/workflows?limit=1&sort_keys=name&sort_dirs=desc&fields=name";
  std::vector<std::string> seen;
  for (int i = 0; i < 5 && !path.empty(); ++i) {
    auto b = api_harness::body_of(h.call("GET", path));
    for (const auto& w : b["workflows"])
      seen.push_back(w["name"]);
    path = b.contains("next")
             ? b["next"].get<std::string>().substr(std::string("http://127.0.0.1:8989").size())
             : "";
  }
  CHECK(seen == std::vector<std::string>{"pc", "pb", "pa"});
}

TEST_CASE("workflow lists filter by tags") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/workflows", two_wfs, "text/plain").status == 201);
  auto tagged = api_harness::body_of(h.call("GET", "/v2/workflows?tags=t1"))["workflows"];
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0]["name"] == "wf_a");
}

TEST_CASE("PyYAML's dump quotes, wraps and escapes scalars as PyYAML does") {
  const auto py_yaml_dump = [](const mistral::json& v) { return mistral::dsl::dump_yaml(v); };
  CHECK(py_yaml_dump(
          json::parse(R"({"version": "2.0", "a": "yes", "b": "", "c": "x: y", "d": 1.5, "e": null})")) ==
        "version: '2.0'\na: 'yes'\nb: ''\nc: 'x: y'\nd: 1.5\ne: null\n");
  CHECK(py_yaml_dump(json::parse(R"({"l": [{"k": 1, "m": 2}, [1, 2]], "o": {}})")) ==
        "l:\n- k: 1\n  m: 2\n- - 1\n  - 2\no: {}\n");
  CHECK(py_yaml_dump(json::parse(R"({"s": "it's\nnew"})")) == "s: 'it''s\n\n  new'\n");
  CHECK(py_yaml_dump(json::parse(R"({"u": "caf\u00e9"})")) == "u: \"caf\\xE9\"\n");
}

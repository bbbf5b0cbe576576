#include "actors/action/catalog.hpp"
#include "test/api_harness.hpp"

#include <doctest/doctest.h>

using mistral::json;
using mistral::test::api_harness;

namespace {

const char* greet = R"yaml(---
version: '2.0'

my.greet:
  description: greets
  tags: [demo]
  base: std.echo
  base-input:
    output: "Hello, <% $.name %>!"
  input:
    - name
    - punct: "!"
  output: <% $ + " (adhoc)" %>
)yaml";

} // namespace

TEST_CASE("the catalog holds every std action with Mistral's input strings") {
  using mistral::action::find_std_action;
  CHECK(mistral::action::std_actions().size() == 13);
  CHECK(find_std_action("std.echo")->input == "output, delay=0");
  CHECK(find_std_action("std.fail")->input == "error_data=null");
  CHECK(find_std_action("std.http")->input ==
        "url, method=\"GET\", params=null, body=null, json=null, headers=null, cookies=null, auth=null, "
        "timeout=null, allow_redirects=null, proxies=null, verify=null");
  CHECK(find_std_action("std.ssh")->input ==
        "cmd, host, username, password=\"\", private_key_filename=null, private_key=null");
  CHECK(find_std_action("std.test_dict")->input == "size=0, key_prefix=\"\", val=\"\"");
  CHECK(find_std_action("std.sleep")->input == "seconds=1");
  CHECK(find_std_action("std.js")->class_name == "mistral.actions.std_actions.JavaScriptAction");
  CHECK_FALSE(find_std_action("std.async_noop")->is_sync);
  CHECK(find_std_action("std.noop")->description.rfind("No-operation action.", 0) == 0);
  CHECK(find_std_action("std.wait_ssh") == nullptr);
}

TEST_CASE("the input check gives Mistral's Invalid input text") {
  const auto& echo = *mistral::action::find_std_action("std.echo");
  CHECK_FALSE(mistral::action::check_input(echo, json::parse(R"({"output": 1})")).has_value());
  CHECK(mistral::action::check_input(echo, json::object()) ==
        "Invalid input [name=std.echo, class=mistral.actions.std_actions.EchoAction, missing=['output']]");
  CHECK(mistral::action::check_input(echo, json::parse(R"({"output": 1, "x": 2, "y": 3})")) ==
        "Invalid input [name=std.echo, class=mistral.actions.std_actions.EchoAction, unexpected=['x', 'y']]");
  CHECK(mistral::action::check_input(*mistral::action::find_std_action("std.noop"), nullptr) == std::nullopt);
  CHECK(mistral::action::check_input("a", "C", "x, **kwargs", json::parse(R"({"z": 1})")) == std::nullopt);
  auto params = mistral::action::parse_param_spec("a, b=1, c=\"x\", d=null");
  REQUIRE(params.size() == 4);
  CHECK_FALSE(params[0].default_value);
  CHECK(params[1].default_value == json(1));
  CHECK(params[2].default_value == json("x"));
  CHECK(params[3].default_value == json(nullptr));
}

TEST_CASE("a std action reads as Mistral shows Python actions") {
  api_harness h;
  auto r = h.call("GET", "/v2/actions/std.noop");
  REQUIRE(r.status == 200);
  CHECK(r.body ==
        "{\"id\": \"std.noop\", \"name\": \"std.noop\", \"is_system\": false, \"input\": \"\", "
        "\"description\": \"No-operation action.\\n\\nThis action does nothing. It can be mostly useful for "
        "testing and\\ndebugging purposes.\", \"tags\": null, \"definition\": \"\", \"scope\": null, "
        "\"project_id\": null, \"created_at\": \"\", \"updated_at\": \"\", \"namespace\": \"\"}");
  auto missing = h.call("GET", "/v2/actions/std.nope");
  CHECK(missing.status == 404);
  CHECK(api_harness::body_of(missing)["faultstring"] == "Action not found [name=std.nope, namespace=]");
}

TEST_CASE("ad-hoc actions are created, read, updated and deleted") {
  api_harness h;
  auto r = h.call("POST", "/v2/actions", greet, "text/plain");
  REQUIRE(r.status == 201);
  auto a = api_harness::body_of(r)["actions"][0];
  CHECK(a["name"] == "my.greet");
  CHECK(a["input"] == "name, punct=\"!\"");
  CHECK(a["description"] == "greets");
  CHECK(a["tags"] == json::array({"demo"}));
  CHECK(a["definition"] == greet);
  CHECK_FALSE(a.contains("updated_at"));
  CHECK(r.body.find("\"created_at\": ") < r.body.find("\"namespace\": \"\"}"));
  auto got = api_harness::body_of(h.call("GET", "/v2/actions/my.greet"));
  CHECK(got["id"] == a["id"]);
  CHECK(got["updated_at"].is_null());
  auto same = api_harness::body_of(h.call("PUT", "/v2/actions", greet, "text/plain"));
  CHECK(same["actions"][0]["updated_at"].is_null());
  std::string v2 = std::string(greet) + "# v2\n";
  auto upd = api_harness::body_of(h.call("PUT", "/v2/actions", v2, "text/plain"));
  CHECK(upd["actions"][0]["updated_at"].is_string());
  auto dup = h.call("POST", "/v2/actions", greet, "text/plain");
  CHECK(dup.status == 409);
  CHECK(dup.body ==
        "{\"faultstring\": \"Duplicate entry for Action ['name', 'namespace', 'project_id']: my.greet, , "
        "None\"}");
  CHECK(h.call("DELETE", "/v2/actions/my.greet").status == 204);
  CHECK(h.call("GET", "/v2/actions/my.greet").status == 404);
}

TEST_CASE("an ad-hoc action without description or input shows nulls on create") {
  api_harness h;
  auto r = h.call("POST", "/v2/actions", "---\nversion: '2.0'\nplain:\n  base: std.noop\n", "text/plain");
  REQUIRE(r.status == 201);
  auto a = api_harness::body_of(r)["actions"][0];
  CHECK(a["input"].is_null());
  CHECK(a["description"].is_null());
  CHECK(api_harness::body_of(h.call("GET", "/v2/actions/plain"))["input"] == "");
}

TEST_CASE("std actions cannot be deleted and missing ones are 404") {
  api_harness h;
  auto r = h.call("DELETE", "/v2/actions/std.echo");
  CHECK(r.status == 404);
  CHECK(r.body == "{\"faultcode\": \"Client\", \"faultstring\": \"Action definition not found "
                  "[action_name=std.echo, namespace=]\", \"debuginfo\": null}");
}

TEST_CASE("std.wait_ssh exists as a public ad-hoc action") {
  api_harness h;
  auto r = h.call("GET", "/v2/actions/std.wait_ssh");
  REQUIRE(r.status == 200);
  auto a = api_harness::body_of(r);
  CHECK(a["input"] == "host, username, password");
  CHECK(a["description"] == "Simple SSH command.");
  CHECK(a["scope"] == "public");
  CHECK(a["id"].get<std::string>().size() == 36);
}

TEST_CASE("the action list sorts by name, pages from the marker and links the next page") {
  api_harness h;
  auto all = api_harness::body_of(h.call("GET", "/v2/actions"))["actions"];
  CHECK(all.size() == 14);
  CHECK(all[0]["name"] == "std.async_noop");
  CHECK(all[13]["name"] == "std.wait_ssh");
  auto page = api_harness::body_of(h.call("GET", "/v2/actions?limit=2&marker=std.fail&fields=name"));
  REQUIRE(page["actions"].size() == 2);
  CHECK(page["actions"][0]["name"] == "std.fail");
  CHECK(page["actions"][1]["name"] == "std.http");
  CHECK(page["actions"][0].contains("description"));
  CHECK(page["next"] ==
        "http://127.0.0.1:8989/v2/actions?sort_keys=name,id&sort_dirs=asc,asc&namespace=eq:&limit=2"
        "&marker=std.http");
  auto desc = api_harness::body_of(h.call("GET", "/v2/actions?sort_keys=name&sort_dirs=desc"))["actions"];
  CHECK(desc[0]["name"] == "std.wait_ssh");
  auto bad = h.call("GET", "/v2/actions?sort_dirs=up");
  CHECK(bad.status == 400);
  CHECK(api_harness::body_of(bad)["faultstring"] == "Unknown sort direction, must be 'desc' or 'asc'.");
  CHECK(h.call("GET", "/v2/actions?limit=0").status == 400);
  auto unsortable = h.call("GET", "/v2/actions?sort_keys=name,description");
  CHECK(unsortable.status == 500);
  CHECK(api_harness::body_of(unsortable)["faultstring"] == "Sort key supplied is invalid: description");
  CHECK(h.call("GET", "/v2/actions?bogus=1").status == 400);
}

TEST_CASE("the action list filters in memory and sorts by created_at without failing") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/actions", greet, "text/plain").status == 201);
  auto in = api_harness::body_of(h.call("GET", "/v2/actions?name=in:std.noop,std.echo,std.fail"))["actions"];
  REQUIRE(in.size() == 3);
  CHECK(in[0]["name"] == "std.echo");
  auto has = api_harness::body_of(h.call("GET", "/v2/actions?name=has:greet"))["actions"];
  REQUIRE(has.size() == 1);
  CHECK(has[0]["name"] == "my.greet");
  auto by_created = h.call("GET", "/v2/actions?sort_keys=created_at&sort_dirs=asc");
  REQUIRE(by_created.status == 200);
  auto items = api_harness::body_of(by_created)["actions"];
  CHECK(items[0]["name"] == "std.async_noop");
  CHECK(items[items.size() - 1]["name"] == "my.greet");
  auto ns = api_harness::body_of(h.call("GET", "/v2/actions?namespace=ns1"))["actions"];
  CHECK(ns.empty());
}

TEST_CASE("actions live in namespaces and validate answers verdicts") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/actions?namespace=ns1", greet, "text/plain").status == 201);
  CHECK(h.call("GET", "/v2/actions/my.greet").status == 404);
  CHECK(h.call("GET", "/v2/actions/my.greet?namespace=ns1").status == 200);
  REQUIRE(h.call("POST", "/v2/actions", greet, "text/plain").status == 201);
  CHECK(h.call("DELETE", "/v2/actions/my.greet?namespace=ns1").status == 204);
  CHECK(h.call("GET", "/v2/actions/my.greet").status == 200);
  CHECK(h.call("POST", "/v2/actions/validate", greet, "text/plain").body == "{\"valid\": true}");
  auto bad = api_harness::body_of(h.call(
    "POST", "/v2/actions/validate", "---\nversion: '2.0'\nx:\n  base: std.echo\n  bogus: 1\n", "text/plain"));
  CHECK(bad["valid"] == false);
  CHECK(
    bad["error"].get<std::string>().rfind("Invalid DSL: Additional properties are not allowed ('bogus' was "
                                          "unexpected)",
                                          0) == 0);
}

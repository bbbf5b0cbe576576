#include "test/api_harness.hpp"

#include <doctest/doctest.h>

using mistral::json;
using mistral::test::api_harness;

namespace {

const char* my_wb = R"(---
version: '2.0'
name: my_wb
description: demo workbook
tags: [wbtag]

actions:
  hello:
    base: std.echo
    base-input:
      output: "hi <% $.who %>"
    input: [who]

workflows:
  main:
    type: direct
    output:
      r: <% $.r %>
    tasks:
      t1:
        action: hello who="wb"
        publish:
          r: <% task().result %>
        on-success: [t2]
      t2:
        workflow: sub
  sub:
    tasks:
      s:
        action: std.noop
)";

} // namespace

TEST_CASE("creating a workbook answers 201 without updated_at and creates its items") {
  api_harness h;
  auto r = h.call("POST", "/v2/workbooks", my_wb, "text/plain");
  REQUIRE(r.status == 201);
  auto wb = api_harness::body_of(r);
  CHECK(wb["name"] == "my_wb");
  CHECK(wb["namespace"] == "");
  CHECK(wb["definition"] == my_wb);
  CHECK(wb["tags"] == json::array({"wbtag"}));
  CHECK(wb["scope"] == "private");
  CHECK_FALSE(wb.contains("updated_at"));
  auto wfs = api_harness::body_of(h.call("GET", "/v2/workflows?name=has:my_wb&fields=name,namespace,input"));
  REQUIRE(wfs["workflows"].size() == 2);
  CHECK(wfs["workflows"][0]["name"] == "my_wb.main");
  CHECK(wfs["workflows"][0]["interface"] == "{\"input\": [], \"output\": [\"r\"]}");
  auto main = api_harness::body_of(h.call("GET", "/v2/workflows/my_wb.main"));
  CHECK(
    main["definition"] ==
    "main:\n  type: direct\n  output:\n    r: <% $.r %>\n  tasks:\n    t1:\n      action: hello who=\"wb\"\n"
    "      publish:\n        r: <% task().result %>\n      on-success: [t2]\n    t2:\n      workflow: sub\n");
  auto act = h.call("GET", "/v2/actions/my_wb.hello");
  REQUIRE(act.status == 200);
  auto a = api_harness::body_of(act);
  CHECK(a["input"] == "who");
  CHECK(a["description"].is_null());
  CHECK(a["tags"] == json::array());
  CHECK(a["definition"] ==
        "hello:\n  base: std.echo\n  base-input:\n    output: \"hi <% $.who %>\"\n  input: [who]\n");
}

TEST_CASE("a workbook is read, updated, listed and deleted by name") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/workbooks", my_wb, "text/plain").status == 201);
  auto got = h.call("GET", "/v2/workbooks/my_wb");
  REQUIRE(got.status == 200);
  CHECK(api_harness::body_of(got)["updated_at"].is_null());
  auto same = h.call("PUT", "/v2/workbooks", my_wb, "text/plain");
  REQUIRE(same.status == 200);
  CHECK(api_harness::body_of(same)["updated_at"].is_null());
  std::string v2 = std::string(my_wb) + "\n# changed\n";
  auto upd = h.call("PUT", "/v2/workbooks", v2, "text/plain");
  REQUIRE(upd.status == 200);
  CHECK(api_harness::body_of(upd)["updated_at"].is_string());
  auto listed = api_harness::body_of(h.call("GET", "/v2/workbooks?fields=name,tags"));
  CHECK(listed ==
        json::parse(R"({"workbooks": [{"id": ")" + api_harness::body_of(got)["id"].get<std::string>() +
                    R"(", "name": "my_wb", "tags": ["wbtag"]}]})"));
  CHECK(h.call("DELETE", "/v2/workbooks/my_wb").status == 204);
  auto gone = h.call("GET", "/v2/workbooks/my_wb");
  CHECK(gone.status == 404);
  CHECK(api_harness::body_of(gone)["faultstring"] == "Workbook not found [name=my_wb, namespace=]");
  auto again = h.call("DELETE", "/v2/workbooks/my_wb");
  CHECK(again.status == 404);
  CHECK(api_harness::body_of(again)["faultstring"] == "Workbook not found [workbook_name=my_wb, namespace=]");
}

TEST_CASE("deleting a workbook leaves its workflows and actions as Mistral does") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/workbooks", my_wb, "text/plain").status == 201);
  REQUIRE(h.call("POST", "/v2/workbooks?namespace=ns1", my_wb, "text/plain").status == 201);
  REQUIRE(h.call("DELETE", "/v2/workbooks/my_wb").status == 204);
  CHECK(h.call("GET", "/v2/workbooks/my_wb?namespace=ns1").status == 200);
  CHECK(h.call("DELETE", "/v2/workflows/my_wb.main").status == 204);
  CHECK(h.call("DELETE", "/v2/actions/my_wb.hello").status == 204);
  CHECK(h.call("GET", "/v2/workflows/my_wb.main?namespace=ns1").status == 200);
  CHECK(h.call("GET", "/v2/actions/my_wb.hello?namespace=ns1").status == 200);
}

TEST_CASE("workbook errors use Mistral's texts") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/workbooks", my_wb, "text/plain").status == 201);
  auto dup = h.call("POST", "/v2/workbooks", my_wb, "text/plain");
  CHECK(dup.status == 409);
  CHECK(dup.body == "{\"faultstring\": \"Duplicate entry for WorkbookDefinition ['name', 'namespace', "
                    "'project_id']: my_wb, , None\"}");
  auto missing = h.call("PUT", "/v2/workbooks?namespace=other", my_wb, "text/plain");
  CHECK(missing.status == 404);
  CHECK(missing.body == "{\"faultstring\": \"Workbook not found [name=my_wb, namespace=other]\"}");
  auto bad = h.call("POST", "/v2/workbooks", "---\nversion: '2.0'\nname: x\nbogus: 1\n", "text/plain");
  CHECK(bad.status == 400);
  CHECK(api_harness::body_of(bad)["faultstring"].get<std::string>().rfind("Invalid DSL: ", 0) == 0);
  auto valid = h.call("POST", "/v2/workbooks/validate", my_wb, "text/plain");
  CHECK(valid.body == "{\"valid\": true}");
  auto invalid = api_harness::body_of(h.call("POST", "/v2/workbooks/validate", "x: [", "text/plain"));
  CHECK(invalid["valid"] == false);
  CHECK(invalid["error"].get<std::string>().rfind("Definition could not be parsed: ", 0) == 0);
}

#include "test/api_harness.hpp"

#include <doctest/doctest.h>

using mistral::json;
using mistral::test::api_harness;

namespace {

const char* sample_env =
  R"({"name": "sample_env", "description": "sample environment", "variables": "{\"endpoint\": \"http://example.invalid\", \"retries\": 3}", "scope": "private"})";

} // namespace

TEST_CASE("creating an environment answers 201 with variables as a JSON string and no updated_at") {
  api_harness h;
  auto r = h.call("POST", "/v2/environments", sample_env);
  CHECK(r.status == 201);
  auto b = api_harness::body_of(r);
  CHECK(b["name"] == "sample_env");
  CHECK(b["variables"] == "{\"endpoint\": \"http://example.invalid\", \"retries\": 3}");
  CHECK(b["project_id"] == "<default-project>");
  CHECK_FALSE(b.contains("updated_at"));
  CHECK(r.body.find("\"id\": ") == 1); // Python's separators, id first
}

TEST_CASE("variables may also be sent as an object") {
  api_harness h;
  auto r = h.call("POST", "/v2/environments", R"({"name": "e", "variables": {"k": [1, 2]}})");
  CHECK(r.status == 201);
  CHECK(api_harness::body_of(r)["variables"] == "{\"k\": [1, 2]}");
}

TEST_CASE("a duplicate environment is a 409 in the WSME error format") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/environments", sample_env).status == 201);
  auto r = h.call("POST", "/v2/environments", R"({"name": "sample_env", "variables": "{}"})");
  CHECK(r.status == 409);
  CHECK(r.body == "{\"faultcode\": \"Client\", \"faultstring\": \"Duplicate entry for Environment ['name', "
                  "'project_id']: sample_env, None\", \"debuginfo\": null}");
}

TEST_CASE("bad environment bodies get Mistral's 400 texts") {
  api_harness h;
  auto bad_json = h.call("POST", "/v2/environments", "{\"name\": ");
  CHECK(bad_json.status == 400);
  CHECK(api_harness::body_of(bad_json)["faultstring"] == "Request is not in valid JSON format");
  auto unknown = h.call("POST", "/v2/environments", R"({"name": "e", "bogus": 1})");
  CHECK(unknown.status == 400);
  CHECK(api_harness::body_of(unknown)["faultstring"] == "Unknown attribute for argument env: bogus");
  auto not_legal = h.call("POST", "/v2/environments", R"({"name": "e", "id": "x"})");
  CHECK(not_legal.status == 400);
  CHECK(api_harness::body_of(not_legal)["faultstring"].get<std::string>().rfind(
          "Please, check your environment", 0) == 0);
  auto no_name = h.call("PUT", "/v2/environments", R"({"description": "x"})");
  CHECK(no_name.status == 400);
  CHECK(api_harness::body_of(no_name)["faultstring"] == "Name of the environment is not provided.");
}

TEST_CASE("environments are read, updated and deleted by name") {
  api_harness h;
  REQUIRE(h.call("POST", "/v2/environments", sample_env).status == 201);
  auto got = h.call("GET", "/v2/environments/sample_env");
  CHECK(got.status == 200);
  CHECK(api_harness::body_of(got)["updated_at"].is_null());
  auto upd = h.call("PUT", "/v2/environments", R"({"name": "sample_env", "description": "d2"})");
  CHECK(upd.status == 200);
  CHECK(api_harness::body_of(upd)["description"] == "d2");
  CHECK(api_harness::body_of(upd)["updated_at"].is_string());
  CHECK(h.call("DELETE", "/v2/environments/sample_env").status == 204);
  auto gone = h.call("GET", "/v2/environments/sample_env");
  CHECK(gone.status == 404);
  CHECK(api_harness::body_of(gone)["faultstring"] == "Environment not found [name=sample_env]");
  CHECK(h.call("DELETE", "/v2/environments/sample_env").status == 404);
}

TEST_CASE("environment lists page with a next link, select fields and filter") {
  api_harness h;
  for (const char* n : {"a", "b", "c"})
    REQUIRE(h.call("POST", "/v2/environments", std::string(R"({"name": ")") + n + R"("})").status == 201);
  auto page = api_harness::body_of(h.call("GET", "/v2/environments?limit=2&sort_keys=name&fields=name"));
  REQUIRE(page["environments"].size() == 2);
  CHECK(page["environments"][0] == json{{"id", page["environments"][0]["id"]}, {"name", "a"}});
  std::string next = page["next"];
  CHECK(
    next.rfind("http://127.0.0.1:8989/v2/environments?sort_keys=name,id&sort_dirs=asc,asc&limit=2&marker=",
               0) == 0);
  CHECK(next.find("&fields=id,name") != std::string::npos);
  auto rest = api_harness::body_of(h.call("GET", next.substr(next.find("/v2/"))));
  REQUIRE(rest["environments"].size() == 1);
  CHECK(rest["environments"][0]["name"] == "c");
  CHECK_FALSE(rest.contains("next"));
  auto filtered = api_harness::body_of(h.call("GET", "/v2/environments?name=in:a,c"));
  CHECK(filtered["environments"].size() == 2);
  auto neq = api_harness::body_of(h.call("GET", "/v2/environments?name=neq:a"));
  CHECK(neq["environments"].size() == 2);
}

TEST_CASE("environment list parameters are validated with Mistral's messages") {
  api_harness h;
  auto msg = [&](const std::string& q) {
    return api_harness::body_of(h.call("GET", "/v2/environments?" + q))["faultstring"];
  };
  CHECK(msg("limit=0") == "Limit must be positive.");
  CHECK(msg("sort_dirs=up") == "Unknown sort direction, must be 'desc' or 'asc'.");
  CHECK(msg("sort_keys=name&sort_dirs=asc,desc") ==
        "Length of sort_keys must be equal or greater than sort_dirs.");
  CHECK(msg("fields=nope") == "Some fields do not exist  [nope], please choose from [id, name, description, "
                              "variables, scope, project_id, created_at, updated_at]");
  CHECK(msg("bogus=1") == "Unknown argument: \"bogus\"");
}

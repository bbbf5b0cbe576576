#include "dsl/json_schema.hpp"
#include "dsl/schemas.hpp"

#include <doctest/doctest.h>

using mistral::json;
using namespace mistral::dsl;

TEST_CASE("the shallowest error wins as in jsonschema's best_match") {
  json task = {{"action", "x"},    {"timeout", -1}, {"bogus", 1},
               {"type", "direct"}, {"name", "t"},   {"version", "2.0"}};
  std::vector<std::string> path;
  auto msg = validate_json_schema(task, schemas::direct_task(), &path);
  REQUIRE(msg);
  CHECK(*msg == "Additional properties are not allowed ('bogus' was unexpected)");
  CHECK(path.empty());
}

TEST_CASE("a oneOf error descends into the single least relevant sub-error") {
  json retry = {{"count", 1}};
  std::vector<std::string> path;
  auto msg = validate_json_schema(retry, schemas::retry(), &path);
  REQUIRE(msg);
  CHECK(*msg == "'delay' is a required property");
  CHECK(validate_json_schema(json::object(), schemas::retry()) ==
        std::optional<std::string>("{} is not valid under any of the given schemas"));
}

TEST_CASE("an errant property is reported with its path") {
  json wf = {{"tasks", {{"t1", json::object()}}}};
  std::vector<std::string> path;
  auto msg = validate_json_schema(wf, schemas::workflow(), &path);
  REQUIRE(msg);
  CHECK(*msg == "{} does not have enough properties");
  CHECK(path == std::vector<std::string>{"tasks", "t1"});
}

TEST_CASE("integral floats are integers and booleans are not numbers") {
  json positive_integer = {{"type", "integer"}, {"minimum", 0}};
  CHECK(schema_is_valid(json(2.0), positive_integer));
  CHECK_FALSE(schema_is_valid(json(true), positive_integer));
  CHECK(validate_json_schema(json(-1), positive_integer) ==
        std::optional<std::string>("-1 is less than the minimum of 0"));
}

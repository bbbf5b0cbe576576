#include "dsl/expr/functions.hpp"

#include <doctest/doctest.h>

using mistral::json;
using namespace mistral::expr;

TEST_CASE("json_dump indents by four like Python json.dumps") {
  auto v = json::parse(R"({"a": [1, 2.5], "b": {}, "c": "é"})");
  CHECK(fn::json_dump(v) ==
        "{\n    \"a\": [\n        1,\n        2.5\n    ],\n    \"b\": {},\n    \"c\": \"\\u00e9\"\n}");
  CHECK(fn::json_dump(json(0.1 + 0.2)) == "0.30000000000000004");
}

TEST_CASE("yaml_dump writes block style with sorted keys") {
  auto v = json::parse(R"({"name": "web1", "cpu": 2, "tags": ["a", "b"], "k": null})");
  CHECK(fn::yaml_dump(v) == "cpu: 2\nk: null\nname: web1\ntags:\n- a\n- b\n");
  CHECK(fn::yaml_dump(json::parse(R"([{"a": 1, "b": "2"}])")) == "- a: 1\n  b: '2'\n");
  CHECK(fn::yaml_dump(json("x")) == "x\n...\n");
}

TEST_CASE("json_parse and yaml_parse read documents") {
  CHECK(*fn::json_parse(R"({"a": [1]})") == json::parse(R"({"a": [1]})"));
  CHECK_FALSE(fn::json_parse("{").ok());
  CHECK(*fn::yaml_parse("a: 1\nb: [x, true, 2.5]\n") == json::parse(R"({"a": 1, "b": ["x", true, 2.5]})"));
}

TEST_CASE("env reads __env from the data and host functions fail without an engine") {
  json data = json::parse(R"({"__env": {"k": 1}})");
  eval_env e{data_view(data), nullptr, {}};
  CHECK(*fn::env(e) == json::parse(R"({"k": 1})"));
  CHECK_FALSE(fn::task(e, std::nullopt).ok());
  CHECK(fn::uuid().size() == 36);
}

TEST_CASE("yaml_dump quotes folds and escapes scalars like PyYAML") {
  CHECK(fn::yaml_dump(json::parse(R"({"a": "multi\nline"})")) == "a: 'multi\n\n  line'\n");
  CHECK(fn::yaml_dump(json("tab\there")) == "\"tab\\there\"\n");
  CHECK(fn::yaml_dump(json("é")) == "\"\\xE9\"\n");
  CHECK(fn::yaml_dump(json("123")) == "'123'\n");
  CHECK(fn::yaml_dump(json::array()) == "[]\n");
  std::string words =
    "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr";
  CHECK(fn::yaml_dump(json::object({{"k", words}})) ==
        "k: aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp\n  qqqq rrrr\n");
}

TEST_CASE("yaml_parse reads YAML 1.1 scalars") {
  CHECK(*fn::yaml_parse("x: 010") == json::parse(R"({"x": 8})"));
  CHECK(*fn::yaml_parse("x: 0x1f") == json::parse(R"({"x": 31})"));
  CHECK(*fn::yaml_parse("x: on") == json::parse(R"({"x": true})"));
  CHECK(*fn::yaml_parse("x: '1'") == json::parse(R"({"x": "1"})"));
}

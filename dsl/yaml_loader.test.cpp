#include "dsl/yaml_loader.hpp"
#include "dsl/py_repr.hpp"

#include <doctest/doctest.h>

using mistral::json;
using namespace mistral::dsl;

namespace {

json load(const std::string& text) {
  auto r = load_yaml(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  return r->value;
}

std::string load_error(const std::string& text) {
  auto r = load_yaml(text);
  REQUIRE_FALSE(r.ok());
  return r.err().message;
}

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

} // namespace

TEST_CASE("YAML 1.1 booleans are yes no on off true false but not y and n") {
  json v = load("a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: False\ng: y\nh: n\n");
  CHECK(v["a"] == true);
  CHECK(v["b"] == false);
  CHECK(v["c"] == true);
  CHECK(v["d"] == false);
  CHECK(v["e"] == true);
  CHECK(v["f"] == false);
  CHECK(v["g"] == "y");
  CHECK(v["h"] == "n");
}

TEST_CASE("null is tilde null or an empty value") {
  json v = load("a: ~\nb: null\nc:\nd: Null\ne: 'null'\n");
  CHECK(v["a"].is_null());
  CHECK(v["b"].is_null());
  CHECK(v["c"].is_null());
  CHECK(v["d"].is_null());
  CHECK(v["e"] == "null");
}

TEST_CASE("integers follow YAML 1.1 with hex, leading-zero octal, binary, underscores and base 60") {
  json v = load("a: 0x1F\nb: 017\nc: 0b101\nd: 1_000\ne: 1:30\nf: -0\ng: 09\nh: 0o17\ni: +5\n");
  CHECK(v["a"] == 31);
  CHECK(v["b"] == 15);
  CHECK(v["c"] == 5);
  CHECK(v["d"] == 1000);
  CHECK(v["e"] == 90);
  CHECK(v["f"] == 0);
  CHECK(v["g"] == "09");
  CHECK(v["h"] == "0o17");
  CHECK(v["i"] == 5);
}

TEST_CASE("floats need a dot and an exponent needs a sign") {
  json v = load("a: 1.5\nb: 1e3\nc: 1.0e+3\nd: 1.0e3\ne: .5\nf: 5.\ng: .inf\n");
  CHECK(v["a"] == 1.5);
  CHECK(v["b"] == "1e3");
  CHECK(v["c"] == 1000.0);
  CHECK(v["d"] == "1.0e3");
  CHECK(v["e"] == 0.5);
  CHECK(v["f"] == 5.0);
  CHECK(v["g"].get<double>() == std::numeric_limits<double>::infinity());
}

TEST_CASE("quoted scalars, block scalars and explicit str tags stay strings") {
  json v = load("a: '2.0'\nb: \"yes\"\nc: !!str 5\nd: |\n  x\n  y\ne: >-\n  x\n  y\n");
  CHECK(v["a"] == "2.0");
  CHECK(v["b"] == "yes");
  CHECK(v["c"] == "5");
  CHECK(v["d"] == "x\ny\n");
  CHECK(v["e"] == "x y");
}

TEST_CASE("dates are Python dates that print as Mistral prints them") {
  json v = load("d: 2020-01-01\n");
  CHECK(is_timestamp(v["d"]));
  CHECK(py_repr(v["d"]) == "datetime.date(2020, 1, 1)");
  timestamps_to_strings(v);
  CHECK(v["d"] == "2020-01-01");
}

TEST_CASE("a duplicate key keeps its first position and its last value") {
  json v = load("a: 1\nb: 2\na: 3\n");
  CHECK(v.dump() == R"({"a":3,"b":2})");
}

TEST_CASE("merge keys are expanded with explicit keys winning") {
  json v = load("d:\n  <<: {x: 1, y: 2}\n  y: 3\ne:\n  <<: [{p: 1}, {p: 2, q: 3}]\n");
  CHECK(v["d"]["x"] == 1);
  CHECK(v["d"]["y"] == 3);
  CHECK(v["e"]["p"] == 1);
  CHECK(v["e"]["q"] == 3);
}

TEST_CASE("anchors and aliases are plain text as in Mistral's loader") {
  json v = load("a: &x 1\nb: *x\nc: [&y, *z]\nd: a & b\n");
  CHECK(v["a"] == "&x 1");
  CHECK(v["b"] == "*x");
  CHECK(v["c"] == json::array({"&y", "*z"}));
  CHECK(v["d"] == "a & b");
  CHECK(load_error("a:\n  <<: *x\n")
          .find("expected a mapping or list of mappings for merging, but found scalar") != std::string::npos);
}

TEST_CASE("a plain at sign starts a scalar as Mistral's loader allows") {
  json v = load("a: @x\nb:\n  - @y z\n");
  CHECK(v["a"] == "@x");
  CHECK(v["b"][0] == "@y z");
}

TEST_CASE("an empty or falsy document becomes an empty object") {
  CHECK(load("") == json::object());
  CHECK(load("~\n") == json::object());
  CHECK(load("[]\n") == json::object());
}

TEST_CASE("each key remembers its line and column") {
  auto r = load_yaml("version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.noop\n");
  REQUIRE(r.ok());
  CHECK(r->marks.at("/wf/tasks/t1").line == 4);
  CHECK(r->marks.at("/wf/tasks/t1").column == 5);
  CHECK(r->find_mark("/wf/tasks/t1/missing").line == 4);
}

TEST_CASE("a mapping or list used as a key is rejected as PyYAML does") {
  std::string e = load_error("? [1]\n: 2\n");
  CHECK(first_line(e) == "Definition could not be parsed: while constructing a mapping");
  CHECK(e.find("found unhashable key") != std::string::npos);
}

TEST_CASE("tabs where a token could start are rejected with PyYAML's wording") {
  std::string e = load_error("version: '2.0'\nwf:\n\ttasks:\n");
  CHECK(first_line(e) == "Definition could not be parsed: while scanning for the next token");
  CHECK(e.find("found character '\\t' that cannot start any token") != std::string::npos);
  CHECK(e.find("line 3, column 1") != std::string::npos);
  CHECK(load("a: \"x\ty\"\nb: |\n  p\tq\n")["b"] == "p\tq\n");
}

TEST_CASE("YAML errors carry PyYAML's first line") {
  CHECK(first_line(load_error("a:\n  tasks: {t1: {action: x}\n")) ==
        "Definition could not be parsed: while parsing a flow mapping");
  CHECK(first_line(load_error("a: [1, 2\n")) ==
        "Definition could not be parsed: while parsing a flow sequence");
  CHECK(first_line(load_error("a: b: c\n")) ==
        "Definition could not be parsed: mapping values are not allowed here");
  CHECK(first_line(load_error("a: 1\n---\nb: 2\n")) ==
        "Definition could not be parsed: expected a single document in the stream");
  CHECK(first_line(load_error("a: %x\n")) ==
        "Definition could not be parsed: while scanning for the next token");
  CHECK(first_line(load_error("a:\n  b: 1\n  foo\n")) ==
        "Definition could not be parsed: while scanning a simple key");
  CHECK(first_line(load_error("a: \"open\n")) ==
        "Definition could not be parsed: while scanning a quoted scalar");
  CHECK(first_line(load_error("a: =\n")) ==
        "Definition could not be parsed: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:value'");
}

TEST_CASE("an unclosed flow sequence gives PyYAML's whole message") {
  CHECK(load_error("---\nversion: '2.0'\nbad_yaml: [unclosed\n  tasks: {\n") ==
        "Definition could not be parsed: while parsing a flow sequence\n"
        "  in \"<unicode string>\", line 3, column 11:\n    bad_yaml: [unclosed\n              ^\n"
        "expected ',' or ']', but got ':'\n"
        "  in \"<unicode string>\", line 4, column 8:\n      tasks: {\n           ^\n");
  CHECK(load_error("---\nversion: '2.0'\nbad_yaml: [unclosed\n") ==
        "Definition could not be parsed: while parsing a flow sequence\n"
        "  in \"<unicode string>\", line 3, column 11:\n    bad_yaml: [unclosed\n              ^\n"
        "expected ',' or ']', but got '<stream end>'\n"
        "  in \"<unicode string>\", line 4, column 1:\n    \n    ^\n");
}

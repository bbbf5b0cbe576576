#include "dsl/expr/py_value.hpp"

#include <doctest/doctest.h>

using mistral::json;
using namespace mistral::expr;

TEST_CASE("float repr matches Python for common values") {
  CHECK(py_float_repr(0.1 + 0.2) == "0.30000000000000004");
  CHECK(py_float_repr(1.0) == "1.0");
  CHECK(py_float_repr(3.5) == "3.5");
  CHECK(py_float_repr(-2.0) == "-2.0");
  CHECK(py_float_repr(1e16) == "1e+16");
  CHECK(py_float_repr(1e15) == "1000000000000000.0");
  CHECK(py_float_repr(0.0001) == "0.0001");
  CHECK(py_float_repr(0.00001) == "1e-05");
  CHECK(py_float_repr(2.5e-05) == "2.5e-05");
  CHECK(py_float_repr(1e20) == "1e+20");
  CHECK(py_float_repr(0.0) == "0.0");
  CHECK(py_float_repr(123456789.125) == "123456789.125");
}

TEST_CASE("repr prints JSON values with Python spelling") {
  CHECK(py_repr(json(nullptr)) == "None");
  CHECK(py_repr(json(true)) == "True");
  CHECK(py_repr(json::parse(R"([1, "a", null, false, 2.0])")) == "[1, 'a', None, False, 2.0]");
  CHECK(py_repr(json::parse(R"({"k": "v", "a": {"b": []}})")) == "{'k': 'v', 'a': {'b': []}}");
}

TEST_CASE("string repr chooses quotes and escapes like Python") {
  CHECK(py_repr(json("it's")) == "\"it's\"");
  CHECK(py_repr(json("say \"hi\" it's")) == "'say \"hi\" it\\'s'");
  CHECK(py_repr(json("a\nb\\")) == "'a\\nb\\\\'");
  CHECK(py_repr(json("\x01")) == "'\\x01'");
  CHECK(py_repr(json("héllo")) == "'héllo'");
}

TEST_CASE("str leaves strings alone and reprs the rest") {
  CHECK(py_str(json("x")) == "x");
  CHECK(py_str(json(5)) == "5");
  CHECK(py_str(json::parse(R"(["x"])")) == "['x']");
}

TEST_CASE("truthiness follows Python") {
  CHECK_FALSE(py_truthy(json(nullptr)));
  CHECK_FALSE(py_truthy(json(0)));
  CHECK_FALSE(py_truthy(json(0.0)));
  CHECK_FALSE(py_truthy(json("")));
  CHECK_FALSE(py_truthy(json::array()));
  CHECK_FALSE(py_truthy(json::object()));
  CHECK(py_truthy(json("0")));
  CHECK(py_truthy(json::array({0})));
}

TEST_CASE("equality treats 1 and 1.0 and True as equal") {
  CHECK(py_equal(json(1), json(1.0)));
  CHECK(py_equal(json(1), json(true)));
  CHECK_FALSE(py_equal(json(1), json("1")));
  CHECK(py_equal(json::parse(R"({"a": 1, "b": [1]})"), json::parse(R"({"b": [1.0], "a": true})")));
  CHECK_FALSE(py_equal(json::parse("[1, 2]"), json::parse("[2, 1]")));
}

#include "common/py_json.hpp"

#include <doctest/doctest.h>

using namespace mistral;

TEST_CASE("floats print as Python's repr") {
  CHECK(python_float_repr(0.1 + 0.2) == "0.30000000000000004");
  CHECK(python_float_repr(1.0) == "1.0");
  CHECK(python_float_repr(1e16) == "1e+16");
  CHECK(python_float_repr(123456789012345680.0) == "1.2345678901234568e+17");
  CHECK(python_float_repr(0.0001) == "0.0001");
  CHECK(python_float_repr(0.00001) == "1e-05");
  CHECK(python_float_repr(-2.5) == "-2.5");
}

TEST_CASE("json dumps uses Python's separators and key order") {
  json v = {{"b", 1}, {"a", json::array({1, 2.5, nullptr, true})}, {"c", json::object()}};
  CHECK(python_json_dumps(v) == R"({"b": 1, "a": [1, 2.5, null, true], "c": {}})");
}

TEST_CASE("json dumps escapes non-ASCII text as Python's ensure_ascii does") {
  CHECK(python_json_dumps("caf\xc3\xa9") == R"("caf\u00e9")");
  CHECK(python_json_dumps("\xf0\x9f\x98\x80") == R"("\ud83d\ude00")");
  CHECK(python_json_dumps("a\"b\\c\n\x01") == R"("a\"b\\c\n\u0001")");
}

TEST_CASE("json dumps with an indent matches json.dumps indent 4") {
  json v = {{"a", json::array({1, 2})}, {"b", "x"}};
  CHECK(python_json_dumps(v, 4) == "{\n    \"a\": [\n        1,\n        2\n    ],\n    \"b\": \"x\"\n}");
}

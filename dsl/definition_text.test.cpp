#include "dsl/definition_text.hpp"
#include "dsl/yaml_loader.hpp"

#include <doctest/doctest.h>

using mistral::json;
using namespace mistral::dsl;

TEST_CASE("dump_yaml writes PyYAML's block style with indentless lists and its quoting") {
  auto doc =
    load_yaml("version: '2.0'\nwf:\n  input: [a, {b: 1}]\n  tasks:\n    t1:\n"
              "      action: std.echo output=\"x\"\n      publish: {y: 'yes', n: '1', e: '', q: \"it's\", "
              "h: '#x', c: 'a: b', l: [], d: {}, z: null, f: 1.5}\n");
  REQUIRE(doc.ok());
  CHECK(dump_yaml(doc->value) ==
        "version: '2.0'\nwf:\n  input:\n  - a\n  - b: 1\n  tasks:\n    t1:\n"
        "      action: std.echo output=\"x\"\n      publish:\n        y: 'yes'\n        n: '1'\n"
        "        e: ''\n        q: it's\n        h: '#x'\n        c: 'a: b'\n        l: []\n"
        "        d: {}\n        z: null\n        f: 1.5\n");
}

TEST_CASE("dump_yaml folds long plain scalars at 80 columns and escapes non-ASCII") {
  json v = {{"x", std::string(50, 'a') + " " + std::string(50, 'b') + " " + std::string(10, 'c')}};
  CHECK(dump_yaml(v) == "x: " + std::string(50, 'a') + " " + std::string(50, 'b') + "\n  cccccccccc\n");
  CHECK(dump_yaml(json{{"u", "\xC3\xA9"}}) == "u: \"\\xE9\"\n");
  CHECK(dump_yaml(json{{"m", "multi\nline"}}) == "m: 'multi\n\n  line'\n");
}

TEST_CASE("one workflow of a multi-workflow document gets its own definition") {
  auto doc = load_yaml("version: '2.0'\nwf1:\n  tasks:\n    a: {action: std.noop}\nwf2:\n  tasks:\n    b:\n  "
                       "    action: std.noop\n");
  REQUIRE(doc.ok());
  CHECK(workflow_definition_from_list(doc->value, "wf2") ==
        "version: '2.0'\nwf2:\n  tasks:\n    b:\n      action: std.noop\n");
}

TEST_CASE("a workbook item definition is cut from the workbook text and de-indented") {
  std::string wb =
    "version: '2.0'\nname: wb\nworkflows:\n  wf1:\n    # note\n    tasks:\n      a:\n"
    "        action: std.noop\n\n  wf2:\n    tasks: {}\nactions:\n  act:\n    base: std.noop\n";
  CHECK(workbook_item_definition(wb, "workflows", "wf1") ==
        "wf1:\n  # note\n  tasks:\n    a:\n      action: std.noop\n");
  CHECK(workbook_item_definition(wb, "actions", "act") == "act:\n  base: std.noop\n");
  CHECK(workbook_item_definition("name: x\n", "actions", "act").empty());
}

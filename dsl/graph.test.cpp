#include "dsl/graph.hpp"
#include "dsl/parser.hpp"

#include <doctest/doctest.h>

#include <thread>

using mistral::json;
using namespace mistral::dsl;

namespace {

workflow_spec parse(const std::string& text) {
  auto r = validate_workflows(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  return r->workflows.at(0);
}

} // namespace

TEST_CASE("a direct graph has edges per event with conditions and start tasks") {
  auto g =
    compile_graph(parse("version: '2.0'\nwf:\n  tasks:\n"
                        "    a:\n      on-success:\n        - b: <% $.x %>\n        - c\n"
                        "      on-error: fail msg='no'\n      on-complete: d\n"
                        "    b: {action: std.noop}\n    c: {action: std.noop}\n    d: {action: std.noop}\n"));
  CHECK(g->start_tasks == std::vector<std::string>{"a"});
  const graph_task* a = g->find("a");
  REQUIRE(a);
  REQUIRE(a->on_success.size() == 2);
  CHECK(g->edges[a->on_success[0]].to == "b");
  CHECK(g->edges[a->on_success[0]].condition == "<% $.x %>");
  CHECK(g->edges[a->on_success[1]].condition.empty());
  REQUIRE(a->on_error.size() == 1);
  const graph_edge& fail = g->edges[a->on_error[0]];
  CHECK(fail.engine_command);
  CHECK(fail.params["msg"] == "no");
  CHECK(g->edges[a->outbound(transition_event::on_complete)[0]].to == "d");
  CHECK(g->find("b")->inbound_tasks == std::vector<std::string>{"a"});
  CHECK_FALSE(g->find("b")->start);
}

TEST_CASE("task-defaults transitions apply only without an own clause and never to the task itself") {
  auto g = compile_graph(parse("version: '2.0'\nwf:\n  task-defaults:\n    on-error: handler\n  tasks:\n"
                               "    a:\n      on-success: b\n    b:\n      on-error: c\n"
                               "    c: {action: std.noop}\n    handler: {action: std.noop}\n"));
  const graph_task* a = g->find("a");
  REQUIRE(a->on_error.size() == 1);
  CHECK(g->edges[a->on_error[0]].to == "handler");
  CHECK(g->edges[a->on_error[0]].from_task_defaults);
  CHECK(g->edges[g->find("b")->on_error[0]].to == "c");
  CHECK(g->find("handler")->on_error.empty());
  CHECK(g->start_tasks == std::vector<std::string>{"a"});
}

TEST_CASE("join cardinalities are all inbound tasks for all, one for one and N for a number") {
  auto g = compile_graph(parse("version: '2.0'\nwf:\n  tasks:\n"
                               "    a:\n      on-success: [x, y, z]\n    b:\n      on-success: [x, y, z]\n"
                               "    c:\n      on-complete: [x, z]\n"
                               "    x:\n      join: all\n    y:\n      join: one\n    z:\n      join: 2\n"));
  REQUIRE(g->find("x")->join);
  CHECK(g->find("x")->join->all);
  CHECK(g->find("x")->join->count == 3);
  CHECK(g->find("y")->join->count == 1);
  CHECK(g->find("z")->join->count == 2);
  CHECK(g->find("z")->inbound_tasks.size() == 3);
  CHECK_FALSE(g->find("a")->join);
  CHECK(g->start_tasks == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("a reverse graph plans dependencies before the target") {
  auto g =
    compile_graph(parse("version: '2.0'\nwf:\n  type: reverse\n  task-defaults:\n    requires: [init]\n"
                        "  tasks:\n    init: {action: std.noop}\n"
                        "    a:\n      requires: b\n    b: {action: std.noop}\n"
                        "    c:\n      requires: [a, b]\n    other: {action: std.noop}\n"));
  CHECK(g->type == workflow_type::reverse);
  CHECK(g->find("init")->requires_.empty());
  CHECK(g->find("a")->requires_ == std::vector<std::string>{"init", "b"});
  CHECK(g->reverse_plan("c") == std::vector<std::string>{"init", "b", "a", "c"});
  CHECK(g->reverse_plan("nope").empty());
}

TEST_CASE("the graph cache returns one graph per checksum from many threads") {
  graph_cache cache(2);
  auto spec = parse("version: '2.0'\nwf:\n  tasks:\n    a: {action: std.noop}\n");
  std::vector<std::shared_ptr<const workflow_graph>> got(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] { got[i] = cache.get("k1", spec); });
  for (auto& t : threads)
    t.join();
  for (auto& g : got)
    CHECK(g == got[0]);
  cache.get("k2", spec);
  cache.get("k3", spec);
  CHECK(cache.size() == 2);
  CHECK(definition_checksum("abc") == definition_checksum("abc"));
  CHECK(definition_checksum("abc") != definition_checksum("abd"));
}

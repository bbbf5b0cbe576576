#include "dsl/parser.hpp"
#include "dsl/inline_params.hpp"

#include <doctest/doctest.h>

using mistral::json;
using namespace mistral::dsl;

namespace {

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

workflow_spec one_workflow(const std::string& text) {
  auto r = validate_workflows(text);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  REQUIRE(r->workflows.size() == 1);
  return r->workflows[0];
}

std::string wf_error(const std::string& text) {
  auto r = validate_workflows(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == mistral::errc::invalid_input);
  return r.err().message;
}

const std::string head = "version: '2.0'\nwf:\n  tasks:\n";

} // namespace

TEST_CASE("a minimal workflow gives a direct workflow with a std.noop task") {
  auto wf = one_workflow(head + "    t1:\n      description: x\n");
  CHECK(wf.name == "wf");
  CHECK(wf.type == workflow_type::direct);
  REQUIRE(wf.tasks.size() == 1);
  CHECK(wf.tasks[0].action == "std.noop");
  CHECK(std::string(wf.tasks[0].task_type()) == "ACTION");
  CHECK(wf.raw["tasks"]["t1"]["type"] == "direct");
  CHECK(wf.raw["version"] == "2.0");
}

TEST_CASE("inline parameters are parsed with Mistral's quirks") {
  auto call = parse_command("std.echo output=\"x y\" n=5 f=1.5 neg=-1 word=abc url=http://h "
                            "flag=true l=[1, 2] e=<% $.x %> nul=null");
  REQUIRE(call.ok());
  CHECK(call->command == "std.echo");
  CHECK(call->params["output"] == "x y");
  CHECK(call->params["n"] == 5);
  CHECK(call->params["f"] == 1);              // 1.5 becomes 1
  CHECK_FALSE(call->params.contains("neg"));  // negative numbers are dropped
  CHECK_FALSE(call->params.contains("word")); // bare words are dropped
  CHECK_FALSE(call->params.contains("url"));
  CHECK(call->params["flag"] == true);
  CHECK(call->params["l"] == json::array({1, 2}));
  CHECK(call->params["e"] == "<% $.x %>");
  CHECK(call->params["nul"].is_null());
  CHECK(parse_command("std.noop")->params.empty());
}

TEST_CASE("inline parameters are merged into the task input and win over it") {
  auto wf = one_workflow(head + "    t1:\n      action: std.echo output='a'\n      input:\n"
                                "        output: b\n        other: c\n");
  CHECK(wf.tasks[0].action == "std.echo");
  CHECK(wf.tasks[0].input["output"] == "a");
  CHECK(wf.tasks[0].input["other"] == "c");
}

TEST_CASE("a workflow task has the WORKFLOW type and its own inline input") {
  auto wf = one_workflow(head + "    t1:\n      workflow: sub x=1\n");
  CHECK(wf.tasks[0].workflow == "sub");
  CHECK(wf.tasks[0].action.empty());
  CHECK(std::string(wf.tasks[0].task_type()) == "WORKFLOW");
  CHECK(wf.tasks[0].input["x"] == 1);
}

TEST_CASE("on-clauses accept a string, a list with conditions and the publish-next form") {
  auto wf = one_workflow(head + "    t1:\n      on-success: t2\n"
                                "      on-error:\n        - t3: <% $.x > 1 %>\n        - fail msg='boom'\n"
                                "      on-complete:\n        publish:\n          branch: {a: 1}\n"
                                "          global: {g: 2}\n        next: [t2]\n"
                                "    t2: {action: std.noop}\n    t3: {action: std.noop}\n");
  const auto& t1 = wf.tasks[0];
  REQUIRE(t1.on_success);
  CHECK(t1.on_success->next.size() == 1);
  CHECK(t1.on_success->next[0].target == "t2");
  REQUIRE(t1.on_error);
  CHECK(t1.on_error->next[0].target == "t3");
  CHECK(t1.on_error->next[0].condition == "<% $.x > 1 %>");
  CHECK(t1.on_error->next[1].target == "fail");
  CHECK(t1.on_error->next[1].params["msg"] == "boom");
  REQUIRE(t1.on_complete);
  REQUIRE(t1.on_complete->publish);
  CHECK(t1.on_complete->publish->branch["a"] == 1);
  CHECK(t1.on_complete->publish->global["g"] == 2);
  CHECK(t1.on_complete->publish->atomic.is_null());
  CHECK(t1.on_complete->next[0].target == "t2");
}

TEST_CASE("a one-key dict as next keeps the task and drops the condition as Mistral does") {
  auto wf = one_workflow(head + "    t1:\n      on-success:\n        next:\n          t2: <% false %>\n"
                                "    t2: {action: std.noop}\n");
  CHECK(wf.tasks[0].on_success->next[0].target == "t2");
  CHECK(wf.tasks[0].on_success->next[0].condition.empty());
}

TEST_CASE("the func form of an engine command matches two patterns and is rejected") {
  CHECK(first_line(wf_error(head + "    t1:\n      on-success: fail(msg=\"x\")\n"))
          .rfind("Invalid DSL: 'fail(msg=\"x\")' is valid under each of ", 0) == 0);
}

TEST_CASE("retry accepts the dict form and the one-line string form") {
  auto wf = one_workflow(head + "    t1:\n      retry: count=3 delay=5 break-on=<% $.x %>\n"
                                "    t2:\n      retry:\n        count: 2\n        delay: <% 1 %>\n");
  REQUIRE(wf.tasks[0].policies.retry);
  CHECK(wf.tasks[0].policies.retry->count == 3);
  CHECK(wf.tasks[0].policies.retry->delay == 5);
  CHECK(wf.tasks[0].policies.retry->break_on == "<% $.x %>");
  CHECK(wf.tasks[1].policies.retry->delay == "<% 1 %>");
}

TEST_CASE("a one-line retry without a space gives no parameters and fails as in Mistral") {
  CHECK(first_line(wf_error(head + "    t1:\n      retry: count=3\n")) ==
        "Invalid DSL: {} is not valid under any of the given schemas");
  CHECK(first_line(wf_error(head + "    t1:\n      retry: count=3 x=1\n")) ==
        "Invalid DSL: {'count': 3, 'x': 1} is not valid under any of the given schemas");
  CHECK(first_line(wf_error(head + "    t1:\n      retry: count=3 delay=1 x=1\n")) ==
        "Invalid DSL: Additional properties are not allowed ('x' was unexpected)");
}

TEST_CASE("policies keep their defaults and the keys that were given") {
  auto wf = one_workflow(head + "    t1:\n      timeout: 5\n      pause-before: <% true %>\n");
  const auto& p = wf.tasks[0].policies;
  CHECK(p.timeout == 5);
  CHECK(p.pause_before == "<% true %>");
  CHECK(p.wait_before == 0);
  CHECK(p.concurrency == 0);
  CHECK(p.fail_on == false);
  CHECK(p.given.size() == 2);
}

TEST_CASE("with-items accepts an expression, a JSON list and several zipped entries") {
  auto wf = one_workflow(head + "    t1:\n      with-items:\n        - x in <% $.xs %>\n"
                                "        - y in [1, 2]\n");
  REQUIRE(wf.tasks[0].with_items.size() == 2);
  CHECK(wf.tasks[0].with_items[0].var == "x");
  CHECK(wf.tasks[0].with_items[0].collection == "<% $.xs %>");
  CHECK(wf.tasks[0].with_items[1].collection == json::array({1, 2}));
}

TEST_CASE("a malformed with-items gives Mistral's message with the task data") {
  CHECK(first_line(wf_error(head + "    t1:\n      with-items: x\n")) ==
        "Wrong format of 'with-items' property. Please use format 'var in {[some, list] | "
        "<% $.array %> }: {'with-items': 'x', 'type': 'direct', 'name': 't1', 'version': '2.0'}");
  CHECK(first_line(wf_error(head + "    t1:\n      with-items: x in [1,,3]\n")) ==
        "Invalid array in 'with-items' clause: [1,,3], error: Expecting value: line 1 column 4 (char 3)");
}

TEST_CASE("input entries are required names or names with defaults") {
  auto wf = one_workflow(
    "version: '2.0'\nwf:\n  input:\n    - a\n    - b: 1\n  tasks:\n    t1: {action: std.noop}\n");
  REQUIRE(wf.input.size() == 2);
  CHECK(wf.input[0].name == "a");
  CHECK_FALSE(wf.input[0].default_value);
  CHECK(wf.input[1].default_value == json(1));
}

TEST_CASE("schema errors give Mistral's first line and point at the key") {
  std::string e = wf_error(head + "    t1:\n      action: std.noop\n      retry:\n        count: 3\n");
  CHECK(first_line(e) == "Invalid DSL: 'delay' is a required property");
  CHECK(e.find("at line 6, column 7: wf.tasks.t1.retry") != std::string::npos);
  CHECK(first_line(wf_error(head + "    t1:\n      no_such_key: 1\n")) ==
        "Invalid DSL: Additional properties are not allowed ('no_such_key' was unexpected)");
  CHECK(first_line(wf_error(head + "    t1:\n      timeout: -1\n")) ==
        "Invalid DSL: -1 is not valid under any of the given schemas");
  CHECK(first_line(wf_error(head + "    t1:\n      join: -1\n")) ==
        "Invalid DSL: -1 is less than the minimum of 0");
}

TEST_CASE("semantic errors give Mistral's messages") {
  CHECK(first_line(wf_error(head + "    t1:\n      on-success: missing\n")) == "Task 'missing' not found.");
  CHECK(first_line(wf_error(head + "    t1:\n      on-success: t2\n    t2:\n      on-success: t1\n")) ==
        "Failed to find start tasks in direct workflow. There must be at least one task without "
        "inbound transition.[workflow_name=wf]");
  CHECK(first_line(wf_error(head + "    t1:\n      join: all\n")) ==
        "No inbound tasks for task with 'join: all' [task_name=t1]");
  CHECK(first_line(wf_error(head + "    t1:\n      on-success: t2\n    t2:\n      join: 2\n")) ==
        "Not enough inbound tasks for task with 'join' [task_name=t2, join=2, inbound_tasks=1]");
  CHECK(first_line(wf_error(
          "version: '2.0'\n00000000-0000-0000-0000-000000000000:\n  tasks:\n    t1: {action: x}\n")) ==
        "Workflow name cannot be in the format of UUID.");
  CHECK(first_line(wf_error("version: '2.0'\n")) ==
        "At least one item must be in the list [data={'version': '2.0'}].");
  CHECK(first_line(wf_error("wf:\n  tasks:\n    t1: {}\n")) ==
        "Invalid DSL: 'version' is a required property");
}

TEST_CASE("engine commands are valid targets") {
  auto wf = one_workflow(head + "    t1:\n      on-success: [noop, succeed, pause, \"fail msg='x'\"]\n");
  CHECK(wf.tasks[0].on_success->next.size() == 4);
}

TEST_CASE("reverse workflows check requires against tasks and reject engine commands") {
  auto r = validate_workflows("version: '2.0'\nwf:\n  type: reverse\n  tasks:\n    a: {action: std.noop}\n"
                              "    b:\n      requires: a\n");
  REQUIRE(r.ok());
  CHECK(r->workflows[0].type == workflow_type::reverse);
  CHECK(r->workflows[0].tasks[1].requires_ == std::vector<std::string>{"a"});
  CHECK(first_line(
          wf_error("version: '2.0'\nwf:\n  type: reverse\n  tasks:\n    a:\n      requires: [fail]\n")) ==
        "Task 'fail' not found.");
  CHECK(
    first_line(wf_error("version: '2.0'\nwf:\n  type: reverse\n  tasks:\n    a:\n      on-success: b\n")) ==
    "Invalid DSL: Additional properties are not allowed ('on-success' was unexpected)");
}

TEST_CASE("an unknown workflow type has no specification class") {
  CHECK(first_line(wf_error("version: '2.0'\nwf:\n  type: parallel\n  tasks:\n    t1: {}\n"))
          .rfind("Failed to find a specification class to instantiate [spec_cls=<class "
                 "'mistral.lang.v2.workflows.WorkflowSpec'>, data={",
                 0) == 0);
}

TEST_CASE("workbooks validate their actions and workflows and check the version") {
  auto wb = validate_workbook("version: '2.0'\nname: wb\nactions:\n  a1:\n    base: std.echo output='x'\n"
                              "workflows:\n  wf:\n    tasks:\n      t1:\n        action: a1\n");
  REQUIRE(wb.ok());
  CHECK(wb->name == "wb");
  REQUIRE(wb->actions.size() == 1);
  CHECK(wb->actions[0].base == "std.echo");
  CHECK(wb->actions[0].base_input["output"] == "x");
  REQUIRE(wb->workflows.size() == 1);
  CHECK(wb->workflows[0].tasks[0].action == "a1");
  auto bad = validate_workbook("version: '1.0'\nname: wb\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message == "Unsupported DSL version: 1.0\n  at line 1, column 1: version");
  auto noname = validate_workbook("version: '2.0'\n");
  REQUIRE_FALSE(noname.ok());
  CHECK(first_line(noname.err().message) == "Invalid DSL: 'name' is a required property");
}

TEST_CASE("ad-hoc action documents need a base and give typed actions") {
  auto r = validate_actions("version: '2.0'\ngreet:\n  base: std.echo\n  base-input:\n    output: <% $.n %>\n"
                            "  input:\n    - n: x\n  output: <% $ %>\n");
  REQUIRE(r.ok());
  REQUIRE(r->actions.size() == 1);
  CHECK(r->actions[0].name == "greet");
  CHECK(r->actions[0].input[0].default_value == json("x"));
  CHECK(r->actions[0].output == "<% $ %>");
  auto bad = validate_actions("version: '2.0'\ngreet:\n  input: [a]\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(first_line(bad.err().message) == "Invalid DSL: 'base' is a required property");
}

TEST_CASE("a stored spec dict parses back into the same typed workflow") {
  auto wf = one_workflow(head + "    t1:\n      action: std.echo output=1\n      on-success: t2\n"
                                "    t2: {action: std.noop}\n");
  auto again = workflow_from_raw(wf.raw);
  REQUIRE(again.ok());
  CHECK(again->name == "wf");
  CHECK(again->tasks.size() == 2);
  CHECK(again->tasks[0].input["output"] == 1);
  CHECK(again->tasks[0].on_success->next[0].target == "t2");
}

TEST_CASE("a stored spec dict is parsed once and shared by every execution of it") {
  auto wf = one_workflow(head + "    t1: {action: std.noop}\n");
  auto first = shared_workflow_from_raw(wf.raw);
  auto second = shared_workflow_from_raw(wf.raw);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->get() == second->get());
  CHECK((*first)->tasks.size() == 1);
  auto other = one_workflow(head + "    t2: {action: std.noop}\n");
  auto third = shared_workflow_from_raw(other.raw);
  REQUIRE(third.ok());
  CHECK(third->get() != first->get());
  CHECK((*third)->tasks[0].name == "t2");
}

TEST_CASE("workflow input is checked and completed as the engine does at start") {
  auto wf = one_workflow(
    "version: '2.0'\nwf:\n  input:\n    - a\n    - b: 1\n  tasks:\n    t1: {action: std.noop}\n");
  CHECK_FALSE(check_workflow_input(wf, json{{"a", 5}}));
  auto e = check_workflow_input(wf, json{{"x", 1}});
  REQUIRE(e);
  CHECK(e->message == "Invalid input [name=wf, class=DirectWorkflowSpec, missing=['a'], unexpected=['x']]");
  CHECK(check_workflow_input(wf, json())->message ==
        "Invalid input [name=wf, class=DirectWorkflowSpec, missing=['a']]");
  CHECK(input_with_defaults(wf, json{{"a", 5}}).dump() == R"({"a":5,"b":1})");
  CHECK(input_with_defaults(wf, json{{"b", 2}, {"a", 5}}).dump() == R"({"b":2,"a":5})");
}

#include "actors/action/std_actions.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace mistral;
using namespace mistral::action;

namespace {

action_context test_context() {
  action_context ctx;
  ctx.workflow_execution_id = "wf-ex-1";
  ctx.task_execution_id = "task-ex-1";
  ctx.workflow_name = "wf";
  ctx.action_execution_id = "action-ex-1";
  ctx.callback_url = "http://127.0.0.1:8989/v2/action_executions/action-ex-1";
  return ctx;
}

action_result run_sync(const std::string& name, const json& input,
                       const std::atomic<bool>* cancel = nullptr) {
  action_run run = run_std_action(name, input, test_context(), cancel);
  CHECK_FALSE(run.async);
  return run.result;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

} // namespace

TEST_CASE("every Mistral 15 std action is known and only those") {
  for (const char* name :
       {"std.noop", "std.async_noop", "std.echo", "std.fail", "std.http", "std.mistral_http", "std.email",
        "std.ssh", "std.ssh_proxied", "std.javascript", "std.js", "std.sleep", "std.test_dict"})
    CHECK(is_std_action(name));
  CHECK_FALSE(is_std_action("std.wait_ssh")); // an ad-hoc action in Mistral
  CHECK_FALSE(is_std_action("std.nope"));
  CHECK(is_async_action("std.async_noop"));
  CHECK(is_async_action("std.mistral_http"));
  CHECK_FALSE(is_async_action("std.http"));
  CHECK_FALSE(is_async_action("std.noop"));
}

TEST_CASE("std.noop returns null and std.async_noop stays running") {
  auto r = run_sync("std.noop", json::object());
  CHECK(r.outcome == action_result::kind::success);
  CHECK(r.data.is_null());
  auto run = run_std_action("std.async_noop", json::object(), test_context());
  CHECK(run.async);
}

TEST_CASE("an unknown action name is an error result, not an exception") {
  auto run = run_std_action("std.unknown", json::object(), test_context());
  CHECK_FALSE(run.async);
  CHECK(run.result.outcome == action_result::kind::error);
}

TEST_CASE("std.echo returns its output as given") {
  json output = {{"a", 1}, {"b", json::array({1, "x", nullptr})}};
  auto r = run_sync("std.echo", {{"output", output}});
  CHECK(r.outcome == action_result::kind::success);
  CHECK(r.data == output);
}

TEST_CASE("std.echo reads delay as Python's float and treats bad or negative delays as zero") {
  for (json delay : {json(-5), json("abc"), json("-1.5"), json(0.01), json(" 0.01 "), json(false)}) {
    auto r = run_sync("std.echo", {{"output", "x"}, {"delay", delay}});
    CHECK(r.outcome == action_result::kind::success);
    CHECK(r.data == "x");
  }
}

TEST_CASE("std.echo with a delay stops early when cancelled") {
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  auto started = std::chrono::steady_clock::now();
  auto r = run_sync("std.echo", {{"output", "x"}, {"delay", 60}}, &cancel);
  canceller.join();
  CHECK(r.outcome == action_result::kind::cancelled);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
}

TEST_CASE("std.fail with error data fails with exactly that data") {
  json data = {{"code", 42}};
  auto r = run_sync("std.fail", {{"error_data", data}});
  CHECK(r.outcome == action_result::kind::error);
  CHECK(r.error == data);
}

TEST_CASE("std.fail without error data fails with Mistral's executor text") {
  for (json input : {json::object(), json{{"error_data", nullptr}}, json{{"error_data", ""}}}) {
    auto r = run_sync("std.fail", input);
    CHECK(r.outcome == action_result::kind::error);
    CHECK(r.error == "The action raised an exception [action=Fail action, action_ex_id=action-ex-1, "
                     "msg='Fail action expected exception.']");
  }
  auto run = run_std_action("std.fail", json::object(), action_context{});
  CHECK(run.result.error == "The action raised an exception [action=Fail action, action_ex_id=None, "
                            "msg='Fail action expected exception.']");
}

TEST_CASE("std.sleep accepts Python int forms and returns null") {
  for (json seconds : {json(0), json(-3), json("0"), json("x"), json(0.9)}) {
    auto r = run_sync("std.sleep", {{"seconds", seconds}});
    CHECK(r.outcome == action_result::kind::success);
    CHECK(r.data.is_null());
  }
}

TEST_CASE("std.sleep is cancellable") {
  std::atomic<bool> cancel{true};
  auto r = run_sync("std.sleep", json::object(), &cancel);
  CHECK(r.outcome == action_result::kind::cancelled);
}

TEST_CASE("std.test_dict builds prefixed keys in order") {
  auto r = run_sync("std.test_dict", {{"size", 2}, {"key_prefix", "k"}, {"val", "v"}});
  CHECK(r.data.dump() == R"({"k0":"v","k1":"v"})");
  CHECK(run_sync("std.test_dict", json::object()).data == json::object());
  auto numbers = run_sync("std.test_dict", {{"size", 3}, {"val", {{"x", 1}}}});
  CHECK(numbers.data.dump() == R"({"0":{"x":1},"1":{"x":1},"2":{"x":1}})");
}

TEST_CASE("std.test_dict with a non-integer size fails like Python's range") {
  auto r = run_sync("std.test_dict", {{"size", "3"}});
  CHECK(r.outcome == action_result::kind::error);
  std::string text = r.error.get<std::string>();
  CHECK(starts_with(text,
                    "The action raised an exception [action=<mistral.actions.std_actions.TestDictAction "
                    "object at 0x"));
  CHECK(text.find("msg=''str' object cannot be interpreted as an integer']") != std::string::npos);
}

TEST_CASE("std.javascript runs the script as a function body with the context bound to dollar") {
  auto r = run_sync("std.javascript",
                    {{"script", "return $.a + $.b.length;"}, {"context", {{"a", 1}, {"b", "xyz"}}}});
  CHECK(r.outcome == action_result::kind::success);
  CHECK(r.data == 4);
  auto obj = run_sync(
    "std.js", {{"script", "var o = {n: $, list: [1, 'two', null, true]}; return o;"}, {"context", "hello"}});
  CHECK(obj.data == json{{"n", "hello"}, {"list", json::array({1, "two", nullptr, true})}});
}

TEST_CASE("std.javascript returns null for undefined and functions and handles a missing context") {
  CHECK(run_sync("std.js", {{"script", "var x = 1;"}}).data.is_null());
  CHECK(run_sync("std.js", {{"script", "return function() {};"}}).data.is_null());
  CHECK(run_sync("std.js", {{"script", "return $ === null;"}}).data == true);
  CHECK(run_sync("std.js", {{"script", "return 'caf\\u00e9 ' + $;"}, {"context", "\xe2\x9c\x93"}}).data ==
        "caf\xc3\xa9 \xe2\x9c\x93");
}

TEST_CASE("std.javascript reports script errors as JavaScriptAction failures") {
  auto r = run_sync("std.javascript", {{"script", "return nosuchvar + 1;"}});
  CHECK(r.outcome == action_result::kind::error);
  std::string text = r.error.get<std::string>();
  CHECK(starts_with(text,
                    "The action raised an exception [action=<mistral.actions.std_actions.JavaScriptAction "
                    "object at 0x"));
  CHECK(text.find("msg='JavaScriptAction failed: ReferenceError") != std::string::npos);
  auto syntax = run_sync("std.javascript", {{"script", "return {{{;"}});
  CHECK(syntax.outcome == action_result::kind::error);
  CHECK(syntax.error.get<std::string>().find("JavaScriptAction failed: SyntaxError") != std::string::npos);
  auto thrown = run_sync("std.javascript", {{"script", "throw new Error('boom');"}});
  CHECK(thrown.error.get<std::string>().find("JavaScriptAction failed: Error: boom") != std::string::npos);
}

TEST_CASE("std.javascript survives a script that exhausts its memory budget") {
  auto r =
    run_sync("std.javascript", {{"script", "var a = []; var s = 'x'; for (;;) { s = s + s; a.push(s); }"}});
  CHECK(r.outcome == action_result::kind::error);
  CHECK(r.error.get<std::string>().find("JavaScriptAction failed: ") != std::string::npos);
}

TEST_CASE("std.javascript stops an endless script when cancelled") {
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto started = std::chrono::steady_clock::now();
  auto r = run_sync("std.javascript", {{"script", "while (true) {}"}}, &cancel);
  canceller.join();
  CHECK(r.outcome == action_result::kind::cancelled);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
}

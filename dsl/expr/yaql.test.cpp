#include "dsl/expr/yaql.hpp"
#include "dsl/expr/expression.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using mistral::json;
using namespace mistral::expr;

namespace {

json ctx() {
  return json::parse(R"({"a": 1, "b": 2, "f": 2.5, "s": "Hello World", "list": [3, 1, 2],
    "d": {"k1": "v1", "k2": "v2"}, "users": [{"name": "x", "age": 30}, {"name": "y", "age": 20}],
    "__env": {"region": "eu"}})");
}

json eval_ok(const std::string& expr, const json& data = ctx()) {
  eval_env env{data_view(data), nullptr, {}};
  auto r = yaql::evaluate_bare(expr, env);
  REQUIRE_MESSAGE(r.ok(), expr, " failed: ", (r.ok() ? "" : r.err().message));
  return *r;
}

bool eval_fails(const std::string& expr, const json& data = ctx()) {
  eval_env env{data_view(data), nullptr, {}};
  auto r = yaql::evaluate_bare(expr, env);
  if (!r.ok()) {
    CHECK(r.err().kind == "YaqlEvaluationException");
    CHECK(r.err().message.find("Can not evaluate YAQL expression [expression=") == 0);
  }
  return !r.ok();
}

} // namespace

TEST_CASE("arithmetic keeps Python int and float semantics") {
  CHECK(eval_ok("1 + 2") == json(3));
  CHECK(eval_ok("7 / 2") == json(3));
  CHECK(eval_ok("-7 / 2") == json(-4));
  CHECK(eval_ok("-7 mod 3") == json(2));
  CHECK(eval_ok("0.1 + 0.2").dump() == "0.30000000000000004");
  CHECK(eval_ok("7.0 / 2") == json(3.5));
  CHECK(eval_ok("2 * 3 + 4") == json(10));
  CHECK(eval_ok("2 * (3 + 4)") == json(14));
  CHECK(eval_ok("3-+1") == json(2));
  CHECK(eval_fails("1 / 0"));
}

TEST_CASE("operator precedence and associativity follow yaql 2.0") {
  CHECK(eval_ok("not true and false") == json(false));
  CHECK(eval_ok("not 1 = 2") == json(true));
  CHECK(eval_ok("1 < 2 and 2 < 3 or false") == json(true));
  CHECK(eval_ok("-$.list[0]") == json(-3));
  CHECK(eval_ok("let(x => 1) -> let(y => $x + 1) -> [$x, $y]") == json::parse("[1, 2]"));
}

TEST_CASE("paths indexers and the data root") {
  CHECK(eval_ok("$.a") == json(1));
  CHECK(eval_ok("$.d.k1") == json("v1"));
  CHECK(eval_ok("$.list[-1]") == json(2));
  CHECK(eval_ok("$.users.name") == json::parse(R"(["x", "y"])"));
  CHECK(eval_ok("$.d.get(missing)").is_null());
  CHECK(eval_ok("$.d[missing, default => 5]") == json(5));
  CHECK(eval_ok("$") == ctx());
  CHECK(eval_ok("$x").is_null());
  CHECK(eval_ok("abc") == json("abc"));
  CHECK(eval_fails("$.missing"));
  CHECK(eval_fails("$.list[10]"));
}

TEST_CASE("literals strings and escapes") {
  CHECK(eval_ok("'a\\nb'") == json("a\nb"));
  CHECK(eval_ok("\"it's\"") == json("it's"));
  CHECK(eval_ok("`raw\\n`") == json("raw\\n"));
  CHECK(eval_ok("[1, 'x', null, true]") == json::parse(R"([1, "x", null, true])"));
  CHECK(eval_ok("{a => 1, b => [2]}") == json::parse(R"({"a": 1, "b": [2]})"));
  CHECK(eval_ok("dict(1 => 2)") == json::parse(R"({"1": 2})"));
}

TEST_CASE("queries select filter order and aggregate") {
  CHECK(eval_ok("$.list.select($ * 10)") == json::parse("[30, 10, 20]"));
  CHECK(eval_ok("$.list.where($ > 1)") == json::parse("[3, 2]"));
  CHECK(eval_ok("$.list.orderBy($)") == json::parse("[1, 2, 3]"));
  CHECK(eval_ok("$.users.orderBy($.age).select($.name)") == json::parse(R"(["y", "x"])"));
  CHECK(eval_ok("$.list.sum()") == json(6));
  CHECK(eval_ok("$.list.max()") == json(3));
  CHECK(eval_ok("$.list.aggregate($1 * $2, 1)") == json(6));
  CHECK(eval_ok("$.list.first()") == json(3));
  CHECK(eval_ok("len($.list)") == json(3));
  CHECK(eval_ok("list(range(0, 3))") == json::parse("[0, 1, 2]"));
  CHECK(eval_ok("[1, 2, 2].distinct()") == json::parse("[1, 2]"));
  CHECK(eval_ok("sequence().take(3)") == json::parse("[0, 1, 2]"));
  CHECK(eval_ok("[1, 2].cycle().take(5)") == json::parse("[1, 2, 1, 2, 1]"));
}

TEST_CASE("collections dicts and sets") {
  CHECK(eval_ok("$.d.keys()").size() == 2);
  CHECK(eval_ok("$.d.values()") == json::parse(R"(["v1", "v2"])"));
  CHECK(eval_ok("dict($.d.items())") == ctx()["d"]);
  CHECK(eval_ok("$.d.set(k3, 3)") == json::parse(R"({"k1": "v1", "k2": "v2", "k3": 3})"));
  CHECK(eval_ok("$.list.toSet().len()") == json(3));
  CHECK(eval_ok("2 in $.list") == json(true));
  CHECK(eval_ok("$.list.insert(0, 9)") == json::parse("[9, 3, 1, 2]"));
  CHECK(eval_ok("set(1, 2).union(set(3))").size() == 3);
  CHECK(eval_fails("$.d.items()"));
}

TEST_CASE("strings and regular expressions") {
  CHECK(eval_ok("$.s.toUpper()") == json("HELLO WORLD"));
  CHECK(eval_ok("$.s.split(' ')") == json::parse(R"(["Hello", "World"])"));
  CHECK(eval_ok("'a,b'.split(',').join('-')") == json("a-b"));
  CHECK(eval_ok("$.s.substring(6)") == json("World"));
  CHECK(eval_ok("$.s.replace('World', 'There')") == json("Hello There"));
  CHECK(eval_ok("str($.list)") == json("(3, 1, 2)"));
  CHECK(eval_ok("str(true)") == json("true"));
  CHECK(eval_ok("'{0}-{1}'.format(1, 'x')") == json("1-x"));
  CHECK(eval_ok("regex('^H.*d$').matches($.s)") == json(true));
  CHECK(eval_ok("$.s =~ 'W.r'") == json(true));
  CHECK(eval_ok("'a1b22'.replace(regex('[0-9]+'), '#')") == json("a#b#"));
}

TEST_CASE("math types and branching") {
  CHECK(eval_ok("abs(-3)") == json(3));
  CHECK(eval_ok("int('42') + 1") == json(43));
  CHECK(eval_ok("float(1)") == json(1.0));
  CHECK(eval_ok("round(2.5)") == json(2.0));
  CHECK(eval_ok("pow(2, 10)") == json(1024));
  CHECK(eval_ok("isInteger(1) and not isInteger(true)") == json(true));
  CHECK(eval_ok("switch($.a > 5 => big, true => small)") == json("small"));
  CHECK(eval_ok("coalesce(null, 2)") == json(2));
  CHECK(eval_ok("def(sq, $ * $) -> [1, 2, 3].select(sq($))") == json::parse("[1, 4, 9]"));
}

TEST_CASE("Mistral functions env and json yaml helpers") {
  CHECK(eval_ok("env().region") == json("eu"));
  CHECK(eval_ok("$__env.region") == json("eu"));
  CHECK(eval_ok("json_parse('[1, 2]')") == json::parse("[1, 2]"));
  CHECK(eval_ok("json_dump([1])") == json("[\n    1\n]"));
  CHECK(eval_ok("yaml_dump($.d)") == json("k1: v1\nk2: v2\n"));
  CHECK(eval_ok("len(uuid())") == json(36));
  CHECK(eval_fails("task(t1)"));
}

TEST_CASE("grammar and lexical errors are reported by validate") {
  CHECK_FALSE(yaql::validate("<% $.a + 1 %>").has_value());
  auto err = yaql::validate("<% * %>");
  REQUIRE(err.has_value());
  CHECK(err->kind == "YaqlGrammarException");
  CHECK(yaql::validate("<% 1e3 %>").has_value());
  CHECK(yaql::validate("<% $.__env %>").has_value());
  CHECK(yaql::validate("<% lambda(1) %>").has_value() == false);
  CHECK(eval_fails("lambda($)(1)"));
}

TEST_CASE("limits stop runaway expressions cleanly") {
  CHECK(eval_fails("range(1000000000000)"));
  CHECK(eval_fails("'x' * 100000000000"));
  CHECK(eval_fails("sequence().select($)"));
  CHECK(eval_fails("def(f, f($)) -> f(1)"));
  json data = json::object();
  eval_env env{data_view(data), nullptr, {10, -1}};
  CHECK_FALSE(yaql::evaluate_bare("range(100)", env).ok());
}

TEST_CASE("inline text uses Python str of each value") {
  json data = ctx();
  eval_env env{data_view(data), nullptr, {}};
  CHECK(*yaql::evaluate("<% $.a %>", env) == json(1));
  CHECK(*yaql::evaluate(" <% $.a %>", env) == json(" 1"));
  CHECK(*yaql::evaluate("<% 1 %><% 'x' %><% true %><% null %>", env) == json("1xTrueNone"));
  CHECK(*yaql::evaluate("v=<% $.list %> d=<% $.d %>", env) == json("v=[3, 1, 2] d={'k1': 'v1', 'k2': 'v2'}"));
  CHECK(*yaql::evaluate("<%% $.a %%>", env) == json(1));
  CHECK(*yaql::evaluate("<% $.a\n %>", env) == json("<% $.a\n %>"));
}

TEST_CASE("dispatcher picks Jinja first and refuses mixed lines") {
  CHECK(detect("<% $.a %>") == language::yaql);
  CHECK(detect("{{ _.a }}") == language::jinja);
  CHECK(detect("<% $.a %> {{ _.a }}") == language::jinja);
  CHECK(detect("plain") == language::none);
  auto err = validate("<% $.a %> {{ _.a }}");
  REQUIRE(err.has_value());
  CHECK(err->kind == "ExpressionGrammarException");
  json data = json::parse(R"({"a": "<% 1 + 1 %>", "b": ["<% 2 %>", 3]})");
  json ctx_data = json::object({{"x", 1}});
  eval_env env{data_view(ctx_data), nullptr, {}};
  CHECK(*evaluate_recursively(data, env) == json::parse(R"({"a": 2, "b": [2, 3]})"));
}

TEST_CASE("a layered data view reads the first layer that has a key") {
  json top = json::parse(R"({"a": 1})");
  json below = json::parse(R"({"a": 2, "b": 3})");
  eval_env env{data_view({&top, &below}), nullptr, {}};
  CHECK(*yaql::evaluate_bare("$.a + $.b", env) == json(4));
}

TEST_CASE("datetimes and timespans behave like Python's datetime module") {
  CHECK(eval_ok("datetime(2015, 8, 29)") == json("2015-08-29T00:00:00.000000"));
  CHECK(eval_ok("datetime('2008-09-03T20:56:35.450686+03:00')") == json("2008-09-03T20:56:35.450686"));
  CHECK(eval_ok("datetime(2020, 1, 2).year") == json(2020));
  CHECK(eval_ok("(datetime(2020, 1, 2) - datetime(2020, 1, 1)).hours") == json(24.0));
  CHECK(eval_ok("datetime(2020, 1, 1) + timespan(days => 1) > datetime(2020, 1, 1)") == json(true));
  CHECK(eval_ok("isDatetime(now()) and isTimespan(localtz())") == json(true));
  CHECK(eval_fails("timespan(days => 1)"));
}

TEST_CASE("ints stay exact beyond int64 and sets of ints iterate in CPython order") {
  CHECK(eval_ok("9223372036854775807 + 1").dump() == "9223372036854775808");
  CHECK(eval_ok("-(-9223372036854775807 - 1)").dump() == "9223372036854775808");
  CHECK(eval_ok("set(10, 3, 100, 8, -1, 17, 33).toList()") == json::parse("[33, 3, 100, 8, 10, 17, -1]"));
  CHECK(eval_ok("set(3, 1, 2).toList()") == json::parse("[1, 2, 3]"));
}

TEST_CASE("evaluate_recursively leaves data alone when the context is empty") {
  json data = json::parse(R"(["<% 1 + 1 %>"])");
  json empty = json::object();
  eval_env env{data_view(empty), nullptr, {}};
  CHECK(*evaluate_recursively(data, env) == data);
}

TEST_CASE("concurrent evaluations share the parse cache safely") {
  json data = ctx();
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      eval_env env{data_view(data), nullptr, {}};
      for (int i = 0; i < 500; ++i) {
        auto r = yaql::evaluate_bare("$.a + " + std::to_string(i % 50 + t), env);
        if (r.ok() && *r == json(1 + i % 50 + t))
          ++good;
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK(good.load() == 2000);
}

namespace {

std::string failure(const std::string& expr) {
  const json data = ctx();
  eval_env env{data_view(data), nullptr, {}};
  auto r = yaql::evaluate_bare(expr, env);
  REQUIRE_FALSE(r.ok());
  auto at = r.err().message.find("error=");
  return r.err().message.substr(at + 6, r.err().message.find(", data=") - at - 6);
}

} // namespace

TEST_CASE("an unknown or unmatched call names its receiver as yaql prints it after converting the input") {
  // Texts recorded from yaql 2.0 through Mistral's InlineYAQLEvaluator.
  CHECK(failure("[1,2].kjhfksjdhfk($)") == R"(Unknown method "kjhfksjdhfk" for receiver (1, 2))");
  CHECK(failure("[1].foo()") == R"(Unknown method "foo" for receiver (1,))");
  CHECK(failure("$.list.foo()") == R"(Unknown method "foo" for receiver (3, 1, 2))");
  CHECK(failure("$.a.switch($ = 1 => one)") == R"(Unknown method "switch" for receiver 1)");
  CHECK(failure("$.s.foo()") == R"(Unknown method "foo" for receiver Hello World)");
  CHECK(failure("$.users.first().foo()") == R"(Unknown method "foo" for receiver {'name': 'x', 'age': 30})");
  CHECK(failure("foo()") == R"(Unknown function "foo")");
  CHECK(failure("$.list.len(1, 2, 3)") ==
        R"(No method "len" for receiver (3, 1, 2) matches supplied arguments)");
  CHECK(failure("len(1, 2, 3)") == R"(No function "len" matches supplied arguments)");
}

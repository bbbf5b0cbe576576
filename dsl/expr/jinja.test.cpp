#include "dsl/expr/jinja.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using mistral::json;
namespace expr = mistral::expr;

namespace {

const json& context() {
  static const json ctx = json::parse(R"({
    "a": 1, "b": 2, "c": 3.5, "big": 12345678901234567890, "s": "Hello World",
    "name": "mistral", "t": true, "f": false, "n": null, "list": [3, 1, 2],
    "nums": [1, 2, 3, 4, 5, 6], "strs": ["b", "a", "c", "a"], "emptylist": [],
    "d": {"k1": "v1", "k2": "v2", "k3": null},
    "servers": [{"name": "web1", "status": "ACTIVE", "cpu": 2},
                {"name": "db1", "status": "ERROR", "cpu": 8},
                {"name": "web2", "status": "ACTIVE", "cpu": 4}],
    "__env": {"host": "example.com", "port": 8080}
  })");
  return ctx;
}

json eval(const std::string& text, const json& ctx = context()) {
  expr::eval_env env{expr::data_view(ctx)};
  auto r = expr::jinja::evaluate(text, env);
  if (!r)
    FAIL_CHECK("unexpected error: " << r.err().message);
  return r ? *r : json();
}

bool fails(const std::string& text, const json& ctx = context()) {
  expr::eval_env env{expr::data_view(ctx)};
  auto r = expr::jinja::evaluate(text, env);
  if (r)
    return false;
  CHECK(r.err().kind == "JinjaEvaluationException");
  return true;
}

} // namespace

TEST_CASE("a string that is exactly one expression yields the native value") {
  CHECK(eval("{{ _.a }}") == 1);
  CHECK(eval("{{ _.d }}") == context()["d"]);
  CHECK(eval("{{ _.c }}").is_number_float());
  CHECK(eval("{{ none }}").is_null());
  CHECK(eval("{{ (1, 2) }}") == json::array({1, 2}));
  CHECK(eval("{{ _.big + 1 }}").get<std::uint64_t>() == 12345678901234567891ull);
}

TEST_CASE("text around expressions renders with Python's printing rules") {
  CHECK(eval("x {{ _.t }}") == "x True");
  CHECK(eval("x {{ _.n }}") == "x None");
  CHECK(eval("x {{ [1, 'a'] }}") == "x [1, 'a']");
  CHECK(eval("x {{ _.d }}") == "x {'k1': 'v1', 'k2': 'v2', 'k3': None}");
  CHECK(eval("x {{ (1,) }}") == "x (1,)");
  CHECK(eval("x {{ 1.0 }} {{ 1e20 }}") == "x 1.0 1e+20");
  CHECK(eval("{{ {'a': {'b': 1}} }}") == "{'a': {'b': 1}}");
  CHECK(eval("{{ _.a }}\n") == "1");
}

TEST_CASE("arithmetic follows Python semantics") {
  CHECK(eval("{{ 7 / 2 }}") == 3.5);
  CHECK(eval("{{ 7 // 2 }}") == 3);
  CHECK(eval("{{ -7 // 2 }}") == -4);
  CHECK(eval("{{ -7 % 3 }}") == 2);
  CHECK(eval("{{ 2 ** 10 }}") == 1024);
  CHECK(eval("{{ 2 ** -1 }}") == 0.5);
  CHECK(eval("{{ 0.1 + 0.2 }}") == 0.30000000000000004);
  CHECK(eval("{{ 'ab' * 2 }}") == "abab");
  CHECK(eval("{{ [1] + [2] }}") == json::array({1, 2}));
  CHECK(eval("{{ '%s-%d' % (_.name, _.a) }}") == "mistral-1");
  CHECK(eval("{{ _.name ~ _.a }}") == "mistral1");
  CHECK(fails("{{ 1 / 0 }}"));
  CHECK(fails("{{ 1 + 'a' }}"));
}

TEST_CASE("comparisons, membership and logic return Python values") {
  CHECK(eval("{{ 1 == 1.0 }}") == true);
  CHECK(eval("{{ 1 < 2 < 3 }}") == true);
  CHECK(eval("{{ 'k1' in _.d }}") == true);
  CHECK(eval("{{ 9 not in _.list }}") == true);
  CHECK(eval("{{ _.a and 'yes' }}") == "yes");
  CHECK(eval("{{ 0 or 'fallback' }}") == "fallback");
  CHECK(eval("{{ 'big' if _.a > 1 else 'small' }}") == "small");
  CHECK(fails("{{ _.a < 'x' }}"));
}

TEST_CASE("attribute, subscript and slice access read the data context") {
  CHECK(eval("{{ _.servers[1].name }}") == "db1");
  CHECK(eval("{{ _['d']['k1'] }}") == "v1");
  CHECK(eval("{{ _.list[-1] }}") == 2);
  CHECK(eval("{{ _.servers.0.cpu }}") == 2);
  CHECK(eval("{{ _.s[1:5] }}") == "ello");
  CHECK(eval("{{ _.nums[::-2] }}") == json::array({6, 4, 2}));
  CHECK(eval("{{ _.d.get('missing', 'dflt') }}") == "dflt");
  CHECK(eval("{{ _.d.keys() | list }}") == json::array({"k1", "k2", "k3"}));
  CHECK(eval("{{ _.s.split(' ') }}") == json::array({"Hello", "World"}));
}

TEST_CASE("missing names and attributes raise StrictUndefined errors") {
  expr::eval_env env{expr::data_view(context())};
  auto r = expr::jinja::evaluate("{{ _.missing }}", env);
  REQUIRE(!r);
  CHECK(r.err().kind == "JinjaEvaluationException");
  CHECK(r.err().message.find("'dict object' has no attribute 'missing'") != std::string::npos);
  CHECK(r.err().message.find("expression={{ _.missing }}") != std::string::npos);
  CHECK(fails("{{ missing }}"));
  CHECK(fails("x {{ _.missing }} y"));
  CHECK(fails("{{ _.missing.x }}"));
  CHECK(eval("{{ _.t or _.missing }}") == true);
  CHECK(eval("{{ _.missing | default('d') }}") == "d");
  CHECK(eval("{{ _.missing is defined }}") == false);
}

TEST_CASE("syntax errors fail evaluation and validation") {
  CHECK(fails("{{ * }}"));
  CHECK(fails("{{ (1 }}"));
  CHECK(fails("{{ _.a | nofilter }}"));
  CHECK(fails("{% if true %}yes{% endif %}"));
  auto v = expr::jinja::validate("The value is {{ * }}.");
  REQUIRE(v);
  CHECK(v->kind == "JinjaGrammarException");
  CHECK(!expr::jinja::validate("{{ _.a | nofilter }}"));
  CHECK(!expr::jinja::validate("{% for x in _.l %}{{ x }}{% endfor %}"));
  CHECK(expr::jinja::validate("{% if _.a %}unclosed {{ _.a }}"));
}

TEST_CASE("if, for and set blocks render with trim_blocks and lstrip_blocks") {
  CHECK(eval("{% if _.a == 2 %}two{% elif _.a == 1 %}one{% endif %}!{{ '' }}") == "one!");
  CHECK(eval("{% for x in _.list %}{{ x }},{% endfor %}") == "3,1,2,");
  CHECK(eval("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}") == "empty");
  CHECK(eval("{% for s in _.servers %}{{ loop.index }}:{{ s.name }}{% if not loop.last %} {% endif %}"
             "{% endfor %}") == "1:web1 2:db1 3:web2");
  CHECK(eval("{% for x in _.nums if x is even %}{{ loop.index }}{{ x }}{% endfor %}") == "122436");
  CHECK(eval("{% for k, v in _.d | dictsort %}{{ k }}={{ v }};{% endfor %}") == "k1=v1;k2=v2;k3=None;");
  CHECK(eval("{% set total = _.nums | sum %}{{ total * 2 }}") == "42");
  CHECK(eval("{% set x %}b{{ _.a }}{% endset %}{{ x }}") == "b1");
  CHECK(eval("{% if _.t %}\nyes\n{% endif %}\n{{ _.a }}") == "yes\n1");
  CHECK(eval("    {% if _.t %}\n    indented\n    {% endif %}\n{{ _.a }}") == "    indented\n1");
  CHECK(eval("{%- if _.t -%}  yes  {%- endif -%} {{ _.a }}") == "yes1");
  CHECK(eval("{# comment #}{{ _.a }}") == "1");
  CHECK(eval("{% raw %}{{ x }}{% endraw %}{{ 1 }}") == "{{ x }}1");
}

TEST_CASE("macros, namespaces, with and filter blocks work") {
  CHECK(eval("{% macro g(n, p='!') %}Hi {{ n }}{{ p }}{% endmacro %}{{ g('x') }} {{ g('y', p='?') }}") ==
        "Hi x! Hi y?");
  CHECK(eval("{% set ns = namespace(t=0) %}{% for n in _.nums %}{% set ns.t = ns.t + n %}{% endfor %}"
             "{{ ns.t }}") == "21");
  CHECK(eval("{% with y = _.a + 1 %}{{ y }}{% endwith %}") == "2");
  CHECK(eval("{% filter upper %}abc{% endfilter %}{{ '' }}") == "ABC");
  CHECK(fails("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}"));
}

TEST_CASE("the common filters behave like Jinja's") {
  CHECK(eval("{{ _.list | sort }}") == json::array({1, 2, 3}));
  CHECK(eval("{{ _.strs | unique | list }}") == json::array({"b", "a", "c"}));
  CHECK(eval("{{ _.servers | map(attribute='name') | join(',') }}") == "web1,db1,web2");
  CHECK(eval("{{ _.servers | selectattr('status', 'equalto', 'ACTIVE') | list | length }}") == 2);
  CHECK(eval("{{ _.servers | sort(attribute='cpu') | map(attribute='name') | first }}") == "web1");
  CHECK(eval("{{ _.servers | max(attribute='cpu') }}") == context()["servers"][1]);
  CHECK(eval("{{ _.nums | select('odd') | list }}") == json::array({1, 3, 5}));
  CHECK(eval("{{ _.nums | reject('gt', 2) | list }}") == json::array({1, 2}));
  CHECK(eval("{{ 'abc' | int }}") == 0);
  CHECK(eval("{{ '3.7' | int }}") == 3);
  CHECK(eval("{{ 3 | float }}") == 3.0);
  CHECK(eval("{{ 2.5 | round }}") == 2.0);
  CHECK(eval("{{ 3.14159 | round(2) }}") == 3.14);
  CHECK(eval("{{ _.d | tojson }}") == R"({"k1": "v1", "k2": "v2", "k3": null})");
  CHECK(eval("{{ 'a<b' | tojson }}") == "\"a\\u003cb\"");
  CHECK(eval("{{ _.s | replace('o', '0', 1) }}") == "Hell0 World");
  CHECK(eval("{{ _.s | truncate(9) }}") == "Hello World");
  CHECK(eval("{{ 'hello world' | title }}") == "Hello World");
  CHECK(eval("{{ 1234567 | filesizeformat }}") == "1.2 MB");
  CHECK(eval("{{ {'a': 1, 'b': 'x y'} | urlencode }}") == "a=1&b=x+y");
  CHECK(eval("{{ _.nums | slice(2) | list }}") == json::parse("[[1, 2, 3], [4, 5, 6]]"));
  CHECK(eval("{{ _.servers | groupby('status') | map('first') | list }}") ==
        json::array({"ACTIVE", "ERROR"}));
  CHECK(eval("{{ '%s=%s' | format('k', 'v') }}") == "k=v");
  CHECK(fails("{{ _.emptylist | first }}"));
}

TEST_CASE("the tests behave like Jinja's") {
  CHECK(eval("{{ _.a is odd }}") == true);
  CHECK(eval("{{ 9 is divisibleby 3 }}") == true);
  CHECK(eval("{{ _.n is none }}") == true);
  CHECK(eval("{{ _.c is number and _.c is float }}") == true);
  CHECK(eval("{{ _.d is mapping and _.list is sequence }}") == true);
  CHECK(eval("{{ _.t is sameas true }}") == true);
  CHECK(eval("{{ 2 is in _.list }}") == true);
  CHECK(eval("{{ _.a is not eq 2 }}") == true);
  CHECK(fails("{{ _.a is nosuchtest }}"));
}

TEST_CASE("Mistral functions work as globals and as filters") {
  CHECK(eval("{{ env().host }}") == "example.com");
  CHECK(eval("{{ _ | env }}") == context()["__env"]);
  CHECK(eval("{{ __env.port }}") == 8080);
  CHECK(eval("{{ json_dump(_.list) }}") == "[\n    3,\n    1,\n    2\n]");
  CHECK(eval("{{ json_parse('{\"a\": [1, 2]}').a[1] }}") == 2);
  CHECK(eval("{{ uuid() | length }}") == 36);
  CHECK(fails("{{ _.d | json_dump }}"));
  CHECK(fails("{{ task('t').result }}"));
}

TEST_CASE("runaway templates end in clean errors") {
  CHECK(fails("{{ 'a' * 10**12 }}"));
  CHECK(fails("{{ [1] * 10**12 }}"));
  CHECK(fails("{{ range(10**12) | list }}"));
  CHECK(fails("{{ range(200000) | list | length }}"));
  CHECK(fails("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}"));
  CHECK(fails("{{ '%10000000000s' % 'a' }}"));
  CHECK(fails("{{ 'a' | center(10**11) }}"));
  CHECK(fails("{{ 'a' | indent(10**11) }}"));
  CHECK(fails("{{ [1] | batch(10**11, 0) | list }}"));
  CHECK(fails("{% set s = 'x' * 10**7 %}{% for i in range(100) %}{{ s }}{% endfor %}"));
  CHECK(fails("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{{ 1 }}"));
  CHECK(fails("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"));
}

TEST_CASE("a non-object context is the value of the underscore") {
  CHECK(eval("{{ _ + 1 }}", json(41)) == 42);
  CHECK(eval("{{ _ | string }}", json("3")) == "3");
  CHECK(eval("{{ _ | length }}", json::array({1, 2})) == 2);
}

TEST_CASE("layered data views are read without merging") {
  json top = {{"a", 1}};
  json bottom = {{"a", 2}, {"b", 3}};
  expr::eval_env env{expr::data_view(std::vector<const json*>{&top, &bottom})};
  auto r = expr::jinja::evaluate("{{ _.a }}-{{ _.b }}", env);
  REQUIRE(r);
  CHECK(*r == "1-3");
}

TEST_CASE("templates evaluate concurrently from the shared cache") {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &ok] {
      json ctx = {{"x", t}};
      expr::eval_env env{expr::data_view(ctx)};
      for (int i = 0; i < 200; ++i) {
        auto r = expr::jinja::evaluate("{% for i in range(3) %}{{ _.x + i }}{% endfor %}", env);
        if (r && *r == std::to_string(t) + std::to_string(t + 1) + std::to_string(t + 2))
          ++ok[t];
      }
    });
  for (auto& th : threads)
    th.join();
  for (int t = 0; t < 4; ++t)
    CHECK(ok[t] == 200);
}

namespace {

/// A host that answers from fixed data and records what it was asked.
class fake_host : public expr::host {
public:
  mutable std::vector<std::string> calls;

  mistral::result<json> task(const std::optional<std::string>& name) const override {
    calls.push_back("task:" + name.value_or("<current>"));
    return json{{"name", name.value_or("current")}, {"result", {{"x", 42}}}, {"state", "SUCCESS"}};
  }
  mistral::result<json> tasks(const expr::tasks_query& q) const override {
    calls.push_back("tasks:" + q.state.value_or("") + (q.recursive ? ":recursive" : ""));
    return json::array({json{{"name", "t1"}}, json{{"name", "t2"}}});
  }
  mistral::result<json> execution() const override {
    calls.push_back("execution");
    return json{{"id", "wf-1"}, {"input", {{"a", 1}}}};
  }
  mistral::result<json> executions(const expr::executions_query&) const override { return json::array(); }
  mistral::result<json> global(const std::string& name) const override {
    calls.push_back("global:" + name);
    return json("g-" + name);
  }
};

} // namespace

TEST_CASE("task, tasks, execution and global ask the engine's host") {
  fake_host h;
  json ctx = {{"a", 1}};
  expr::eval_env env{expr::data_view(ctx), &h};
  auto run = [&](const char* text) {
    auto r = expr::jinja::evaluate(text, env);
    REQUIRE(r);
    return *r;
  };
  CHECK(run("{{ task('t1').result.x }}") == 42);
  CHECK(run("{{ task().name }}") == "current");
  CHECK(run("{{ tasks(state='SUCCESS', recursive=true) | map(attribute='name') | join(',') }}") == "t1,t2");
  CHECK(run("{{ execution().input.a + 1 }}") == 2);
  CHECK(run("{{ global('v') }}") == "g-v");
  CHECK(run("x {{ _ | task('t2') | attr('keys') is callable }}") == "x True");
  CHECK(h.calls == std::vector<std::string>{"task:t1", "task:<current>", "tasks:SUCCESS:recursive",
                                            "execution", "global:v", "task:t2"});
}

TEST_CASE("recursive loops render nested data one level deeper per call") {
  json ctx = json::parse(R"({"tree": [{"n": "a", "c": [{"n": "b", "c": []}]}, {"n": "d", "c": []}]})");
  CHECK(eval("{% for x in _.tree recursive %}{{ x.n }}{{ loop.depth }}[{{ loop(x.c) }}]{% endfor %}", ctx) ==
        "a1[b2[]]d1[]");
}

TEST_CASE("generator filters behave like Python iterators") {
  CHECK(fails("{{ _.nums | select('odd') | length }}"));
  CHECK(eval("{{ _.nums | select('odd') | list | length }}") == 3);
  CHECK(eval("{% if _.emptylist | select('odd') %}yes{% endif %}{{ '' }}") == "yes");
  CHECK(eval("{{ _.nums | select('odd') }}") == json::array({1, 3, 5}));
  CHECK(fails("{{ _.nums | map('string') | tojson }}"));
  CHECK(eval("x {{ _.d.keys() }}") == "x dict_keys(['k1', 'k2', 'k3'])");
  CHECK(eval("x {{ range(3) }}") == "x range(0, 3)");
}

TEST_CASE("whitespace control strips around tags as Jinja does") {
  CHECK(eval("{{ _.a -}}   \n   {{ _.b }}") == "12");
  CHECK(eval("a\n  {#- c -#}  \nb {{ _.a }}") == "ab 1");
  CHECK(eval("  {%+ if true %}x{% endif %} {{ 1 }}") == "  x 1");
  CHECK(eval("{% if true +%}\nx{% endif %} {{ 1 }}") == "\nx 1");
  CHECK(eval("{{ _.a }}\r\n{{ _.b }}\r\n") == "1\n2");
}

namespace {

std::string failure(const std::string& text, const expr::data_view& data) {
  expr::eval_env env{data};
  auto r = expr::jinja::evaluate(text, env);
  REQUIRE_FALSE(r.ok());
  auto at = r.err().message.find("error=");
  return r.err().message.substr(at + 6, r.err().message.find(", data=") - at - 6);
}

} // namespace

TEST_CASE("a callable in a TypeError is named by its Python type") {
  expr::data_view plain(context());
  CHECK(failure("{{ range | sort }}", plain) ==
        "'function' object is not iterable"); // the sandbox's safe_range
  CHECK(failure("{{ dict | sort }}", plain) == "'type' object is not iterable");
  CHECK(failure("{{ joiner | sort }}", plain) == "'type' object is not iterable");
  CHECK(failure("{{ 'a'.upper | sort }}", plain) == "'builtin_function_or_method' object is not iterable");
  CHECK(failure("{{ [1].append | sort }}", plain) == "'builtin_function_or_method' object is not iterable");
  CHECK(failure("{{ {}.items | sort }}", plain) == "'builtin_function_or_method' object is not iterable");
  CHECK(failure("{% macro m() %}x{% endmacro %}{{ m | sort }}", plain) == "'Macro' object is not iterable");
}

TEST_CASE("the methods Mistral's ContextView defines in Python are bound methods, the others builtins") {
  json task = {{"__task_execution", {{"id", "t"}, {"name", "t1"}}}};
  expr::data_view view(std::vector<const json*>{&task, &context()});
  CHECK(failure("{{ _.items | sort }}", view) == "'method' object is not iterable");
  CHECK(failure("{{ _.keys | sort }}", view) == "'method' object is not iterable");
  CHECK(failure("{{ _.copy | sort }}", view) == "'builtin_function_or_method' object is not iterable");
}

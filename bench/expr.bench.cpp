// Micro-benchmark of the expression layer: a cached YAQL expression evaluated
// over a read-only data view, the way the engine evaluates publish/when.

#include "dsl/expr/expression.hpp"
#include "dsl/expr/yaql.hpp"

#include <chrono>
#include <cstdio>

namespace {

template <class F>
double ns_per_call(int iterations, F&& f) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i)
    f();
  auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(end - start).count() / iterations;
}

} // namespace

int main() {
  using mistral::json;
  namespace ex = mistral::expr;
  json data = json::parse(R"({"x": {"y": 41}, "list": [5, 3, 8, 1], "name": "mistral"})");
  ex::eval_env env{ex::data_view(data), nullptr, {}};
  const int n = 1'000'000;
  struct row {
    const char* label;
    const char* text;
  };
  const row rows[] = {
    {"<% $.x.y + 1 %> (evaluate)", "<% $.x.y + 1 %>"},
    {"<% $.list.where($ > 2).select($ * 2) %>", "<% $.list.where($ > 2).select($ * 2) %>"},
    {"'hello <% $.name %>' (mixed text)", "hello <% $.name %>"},
  };
  long long sink = 0;
  for (const auto& r : rows) {
    auto first = ex::evaluate(r.text, env); // parse once, then served from the cache
    if (!first.ok()) {
      std::printf("%s: error %s\n", r.label, first.err().message.c_str());
      return 1;
    }
    double ns = ns_per_call(n, [&] { sink += ex::evaluate(r.text, env).ok(); });
    std::printf("%-45s %8.1f ns/eval\n", r.label, ns);
  }
  double bare = ns_per_call(n, [&] { sink += ex::yaql::evaluate_bare("$.x.y + 1", env).ok(); });
  std::printf("%-45s %8.1f ns/eval\n", "$.x.y + 1 (evaluate_bare)", bare);
  return sink == 0;
}

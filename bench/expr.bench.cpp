// Micro-benchmark of the expression layer: a cached YAQL expression evaluated
// over a read-only data view, the way the engine evaluates publish/when.

#include "dsl/expr/expression.hpp"
#include "dsl/expr/yaql.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace {

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

struct timing {
  double wall_ns, cpu_ns;
};

/// Wall time and this thread's CPU time per call: on a shared, loaded
/// machine the CPU figure is the one to compare.
template <class F>
timing ns_per_call(int iterations, F&& f) {
  auto start = std::chrono::steady_clock::now();
  double cpu_start = thread_cpu_ns();
  for (int i = 0; i < iterations; ++i)
    f();
  double cpu_end = thread_cpu_ns();
  auto end = std::chrono::steady_clock::now();
  return {std::chrono::duration<double, std::nano>(end - start).count() / iterations,
          (cpu_end - cpu_start) / iterations};
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
    timing t = ns_per_call(n, [&] { sink += ex::evaluate(r.text, env).ok(); });
    std::printf("%-45s %8.1f ns/eval wall %8.1f ns/eval cpu\n", r.label, t.wall_ns, t.cpu_ns);
  }
  timing bare = ns_per_call(n, [&] { sink += ex::yaql::evaluate_bare("$.x.y + 1", env).ok(); });
  std::printf("%-45s %8.1f ns/eval wall %8.1f ns/eval cpu\n", "$.x.y + 1 (evaluate_bare)", bare.wall_ns,
              bare.cpu_ns);
  return sink == 0;
}

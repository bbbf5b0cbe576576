// Google Benchmark micro-benchmarks of the three costs under every workflow
// transition: evaluating an expression, deciding an event (the pure engine
// core), and committing a batch of writes to the durable store.
//
//   build/bin/bench_micro --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include "actors/engine/records.hpp"
#include "actors/workflow/machine.hpp"
#include "common/uuid.hpp"
#include "dsl/expr/expression.hpp"
#include "dsl/parser.hpp"
#include "persistence/database.hpp"
#include "persistence/definition_stores.hpp"
#include "persistence/execution_tables.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

using namespace mistral;

namespace {

// ---- expressions ------------------------------------------------------------

void expression(benchmark::State& state, const char* text) {
  json data = json::parse(R"({"x": {"y": 41}, "list": [5, 3, 8, 1], "name": "mistral"})");
  expr::eval_env env{expr::data_view(data), nullptr, {}};
  if (!expr::evaluate(text, env).ok()) {
    state.SkipWithError("the expression does not evaluate");
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(expr::evaluate(text, env));
}
BENCHMARK_CAPTURE(expression, yaql_path_plus_one, "<% $.x.y + 1 %>");
BENCHMARK_CAPTURE(expression, yaql_where_select, "<% $.list.where($ > 2).select($ * 2) %>");
BENCHMARK_CAPTURE(expression, yaql_mixed_text, "hello <% $.name %>");
BENCHMARK_CAPTURE(expression, jinja_path, "{{ _.x.y + 1 }}");

// ---- decide() ----------------------------------------------------------------

class bench_env final : public engine::machine_env {
public:
  timestamp now() const override { return 1000000 * ++clock_; }
  std::string new_id() override { return "id-" + std::to_string(++ids_); }
  std::optional<dsl::action_spec> find_adhoc_action(const std::string&, const std::string&) const override {
    return std::nullopt;
  }
  bool is_std_action(const std::string& name) const override { return name.rfind("std.", 0) == 0; }

private:
  mutable long clock_ = 0;
  int ids_ = 0;
};

std::string sequence_yaml(int n) {
  std::string y = "version: '2.0'\nwf:\n  tasks:\n";
  for (int i = 1; i <= n; ++i) {
    y += "    t" + std::to_string(i) + ":\n      action: std.noop\n";
    if (i < n)
      y += "      on-success: t" + std::to_string(i + 1) + "\n";
  }
  return y;
}

std::string fan_out_yaml(int n) {
  std::string y = "version: '2.0'\nwf:\n  tasks:\n    start:\n      action: std.noop\n      on-success:\n";
  for (int i = 0; i < n; ++i)
    y += "        - p" + std::to_string(i) + "\n";
  for (int i = 0; i < n; ++i)
    y += "    p" + std::to_string(i) + ":\n      action: std.noop\n      on-success: [joiner]\n";
  y += "    joiner:\n      join: all\n      action: std.noop\n";
  return y;
}

std::shared_ptr<const dsl::workflow_spec> spec_of(const std::string& yaml) {
  auto specs = dsl::validate_workflows(yaml);
  if (!specs.ok())
    throw std::runtime_error(specs.err().message);
  return std::make_shared<dsl::workflow_spec>(specs->workflows.front());
}

/// Runs one execution to its end with decide() alone: every action succeeds
/// at once and every timer fires at once. Returns the number of decide() calls.
/// With `writes`, each decision's rows are built too (engine::writes_for), as
/// the execution actor does before its commit.
std::int64_t run_to_end(const std::shared_ptr<const dsl::workflow_spec>& spec, json params = json::object(),
                        bool writes = false) {
  engine::execution ex;
  ex.wf.params = std::move(params);
  bench_env env;
  ex.spec = spec;
  ex.wf.id = "wf-1";
  ex.wf.workflow_name = spec->name;
  ex.wf.input = engine::complete_workflow_input(*spec, json::object());
  std::deque<engine::event> events{engine::ev_start{}};
  std::int64_t decisions = 0;
  while (!events.empty()) {
    engine::event ev = std::move(events.front());
    events.pop_front();
    auto d = engine::decide(ex, ev, env);
    ++decisions;
    if (writes)
      benchmark::DoNotOptimize(engine::writes_for(ex, d, 0));
    for (auto& c : d.commands) {
      if (auto* r = std::get_if<engine::cmd_run_action>(&c))
        events.push_back(engine::ev_action_done{r->action_id, action::action_result::ok(nullptr)});
      else if (auto* t = std::get_if<engine::cmd_schedule_timer>(&c))
        if (t->kind != engine::timer_kind::timeout)
          events.push_back(engine::ev_timer{t->task_id, t->kind});
    }
  }
  if (!engine::is_completed(ex.wf.st))
    throw std::runtime_error("the execution did not complete");
  return decisions;
}

void decide_sequence(benchmark::State& state) {
  auto spec = spec_of(sequence_yaml(static_cast<int>(state.range(0))));
  std::int64_t decisions = 0;
  for (auto _ : state)
    decisions += run_to_end(spec);
  state.counters["decisions/s"] =
    benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}
BENCHMARK(decide_sequence)->Arg(10)->Arg(50)->Unit(benchmark::kMicrosecond);

/// decide_sequence plus the rows of every decision: the execution actor's
/// CPU per execution before the store (scenario (e) of compare.py).
void decide_and_rows_sequence(benchmark::State& state) {
  auto spec = spec_of(sequence_yaml(static_cast<int>(state.range(0))));
  std::int64_t decisions = 0;
  for (auto _ : state)
    decisions += run_to_end(spec, json::object(), true);
  state.counters["decisions/s"] =
    benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}
BENCHMARK(decide_and_rows_sequence)->Arg(50)->Unit(benchmark::kMicrosecond);

// The same with a webhook in params.notify: every state change also builds
// its notification (payload and publishers), as the engine then sends it.
void decide_sequence_notified(benchmark::State& state) {
  auto spec = spec_of(sequence_yaml(static_cast<int>(state.range(0))));
  json params = {{"notify", json::array({json{{"type", "webhook"}, {"url", "http://127.0.0.1:9/hook"}}})}};
  std::int64_t decisions = 0;
  for (auto _ : state)
    decisions += run_to_end(spec, params);
  state.counters["decisions/s"] =
    benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}
BENCHMARK(decide_sequence_notified)->Arg(10)->Arg(50)->Unit(benchmark::kMicrosecond);

void decide_fan_out_join(benchmark::State& state) {
  auto spec = spec_of(fan_out_yaml(static_cast<int>(state.range(0))));
  std::int64_t decisions = 0;
  for (auto _ : state)
    decisions += run_to_end(spec);
  state.counters["decisions/s"] =
    benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}
BENCHMARK(decide_fan_out_join)->Arg(50)->Arg(500)->Unit(benchmark::kMillisecond);

/// A with-items task over `range(0)` std.noop items: the time per item must
/// not grow with the number of items (each completion used to scan them all).
void decide_with_items(benchmark::State& state) {
  auto spec = spec_of("version: '2.0'\nwf:\n  tasks:\n    items:\n      with-items: i in <% range(" +
                      std::to_string(state.range(0)) + ") %>\n      action: std.noop\n");
  std::int64_t decisions = 0;
  for (auto _ : state)
    decisions += run_to_end(spec);
  state.counters["decisions/s"] =
    benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}
BENCHMARK(decide_with_items)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// ---- store commit -------------------------------------------------------------

/// A migrated SQLite file in a new temp folder, removed afterwards.
struct temp_store {
  std::filesystem::path dir;
  std::shared_ptr<persistence::database> db;

  explicit temp_store(const std::string& synchronous) {
    std::mt19937_64 rng{std::random_device{}()};
    dir = std::filesystem::temp_directory_path() / ("mistral-bench-" + std::to_string(rng()));
    std::filesystem::create_directories(dir);
    auto info = persistence::parse_connection_url("sqlite:///" + (dir / "bench.db").string());
    if (!info.ok())
      throw std::runtime_error(info.err().message);
    info->sqlite_synchronous = synchronous;
    auto opened = persistence::open_database(*info);
    if (!opened.ok())
      throw std::runtime_error(opened.err().message);
    db = *opened;
    if (auto m = db->migrate(); !m.ok())
      throw std::runtime_error(m.err().message);
  }
  ~temp_store() {
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

persistence::write_op environment_row(std::int64_t i) {
  std::string id = "env-" + std::to_string(i % 1000);
  return {persistence::write_op::kind::upsert,
          &persistence::environments_table(),
          {{"id", id}, {"name", id}, {"namespace", ""}, {"variables", json{{"i", i}}}, {"created_at", 1}},
          {}};
}

/// One batch of `range(0)` upserts per transaction, synchronous=FULL (durable)
/// or OFF (what the commit costs without the fsync).
void store_commit(benchmark::State& state, const char* synchronous) {
  temp_store store(synchronous);
  std::int64_t i = 0;
  for (auto _ : state) {
    std::vector<persistence::write_op> ops;
    for (std::int64_t k = 0; k < state.range(0); ++k)
      ops.push_back(environment_row(i++));
    if (!store.db->write_batch(ops).ok())
      state.SkipWithError("the commit failed");
  }
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(i), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(store_commit, durable, "FULL")->Arg(1)->Arg(10)->Arg(100)->UseRealTime();
BENCHMARK_CAPTURE(store_commit, no_fsync, "OFF")->Arg(1)->Arg(100)->UseRealTime();

/// The commit of one finished 50-task sequential execution, as scenario (e)
/// of bench/compare.py makes it: 1 workflow row, 50 task rows, 50 action
/// rows (the engine's columns, random UUID ids), synchronous=OFF: the CPU of
/// the writer thread per execution, without the fsync.
std::vector<persistence::write_op> execution_commit() {
  using persistence::write_op;
  std::vector<write_op> ops;
  std::string wf = make_uuid();
  json ctx = {{"__execution", {{"id", wf}, {"created_at", "2026-11-29 18:00:00"}}}};
  ops.push_back({write_op::kind::upsert,
                 &persistence::workflow_executions_table(),
                 {{"id", wf},
                  {"name", "cmp_seq50"},
                  {"workflow_name", "cmp_seq50"},
                  {"workflow_id", make_uuid()},
                  {"workflow_namespace", ""},
                  {"description", "cmp-0123456789"},
                  {"tags", json::array()},
                  {"spec", {{"name", "cmp_seq50"}, {"tasks", {{"t1", {{"action", "std.noop"}}}}}}},
                  {"state", "SUCCESS"},
                  {"state_info", nullptr},
                  {"input", json::object()},
                  {"output", json::object()},
                  {"params", {{"namespace", ""}}},
                  {"context", ctx},
                  {"runtime_context", json::object()},
                  {"task_execution_id", nullptr},
                  {"root_execution_id", nullptr},
                  {"project_id", "<default-project>"},
                  {"created_at", 1},
                  {"updated_at", 2}},
                 {}});
  for (int i = 1; i <= 50; ++i) {
    std::string task = make_uuid(), name = "t" + std::to_string(i);
    ops.push_back({write_op::kind::upsert,
                   &persistence::task_executions_table(),
                   {{"id", task},
                    {"name", name},
                    {"type", "ACTION"},
                    {"workflow_name", "cmp_seq50"},
                    {"workflow_namespace", ""},
                    {"workflow_id", "wf-id"},
                    {"workflow_execution_id", wf},
                    {"state", "SUCCESS"},
                    {"state_info", nullptr},
                    {"in_context", ctx},
                    {"published", json::object()},
                    {"runtime_context", json::object()},
                    {"processed", true},
                    {"error_handled", false},
                    {"has_next_tasks", i < 50},
                    {"next_tasks", json::array({json::array({"t" + std::to_string(i + 1), "on-success"})})},
                    {"unique_key", nullptr},
                    {"tags", json::array()},
                    {"project_id", "<default-project>"},
                    {"created_at", 1},
                    {"updated_at", 2},
                    {"started_at", 1},
                    {"finished_at", 2}},
                   {}});
    ops.push_back({write_op::kind::upsert,
                   &persistence::action_executions_table(),
                   {{"id", make_uuid()},
                    {"name", "std.noop"},
                    {"workflow_name", "cmp_seq50"},
                    {"workflow_namespace", ""},
                    {"task_name", name},
                    {"task_execution_id", task},
                    {"workflow_execution_id", wf},
                    {"state", "SUCCESS"},
                    {"state_info", nullptr},
                    {"accepted", true},
                    {"is_workflow", false},
                    {"is_sync", true},
                    {"input", json::object()},
                    {"output", {{"result", nullptr}}},
                    {"idx", 0},
                    {"description", ""},
                    {"tags", json::array()},
                    {"project_id", "<default-project>"},
                    {"created_at", 1},
                    {"updated_at", 2}},
                   {}});
  }
  return ops;
}

/// `op`'s record as the packed row the engine writes (actors/engine/records.cpp).
persistence::write_op packed(persistence::write_op op) {
  persistence::packed_row row(*op.table);
  for (auto it = op.row.begin(); it != op.row.end(); ++it)
    row.set(it.key(), it.value());
  return {op.what, op.table, nullptr, {}, std::move(row)};
}

/// `range(0)` executions per transaction (group commit merges many), as the
/// engine's packed rows.
void store_commit_executions(benchmark::State& state) {
  temp_store store("OFF");
  std::int64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<persistence::write_op> ops;
    for (std::int64_t k = 0; k < state.range(0); ++k)
      for (auto& op : execution_commit())
        ops.push_back(packed(std::move(op)));
    rows += static_cast<std::int64_t>(ops.size());
    state.ResumeTiming();
    if (!store.db->write_batch(ops).ok())
      state.SkipWithError("the commit failed");
    state.PauseTiming();
    ops.clear(); // freeing the rows is the engine's cost, not the store's
    state.ResumeTiming();
  }
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
// Fixed iterations: a commit costs more as the tables grow (random ids).
BENCHMARK(store_commit_executions)->Arg(1)->Iterations(200)->Unit(benchmark::kMicrosecond);
BENCHMARK(store_commit_executions)->Arg(10)->Iterations(40)->Unit(benchmark::kMicrosecond);

/// find_one by id over 1,000 rows, as the API and the engine read one row:
/// the cost of a read (statement, binding, decoding the row).
void store_find_one(benchmark::State& state) {
  temp_store store("OFF");
  std::vector<persistence::write_op> ops;
  for (std::int64_t k = 0; k < 1000; ++k)
    ops.push_back(environment_row(k));
  if (!store.db->write_batch(ops).ok())
    throw std::runtime_error("cannot fill the table");
  std::int64_t i = 0;
  for (auto _ : state) {
    auto row = store.db->find_one(
      persistence::environments_table(),
      {persistence::filter{"id", persistence::filter_op::eq, {"env-" + std::to_string(i++ % 1000)}}});
    if (!row.ok() || !row->has_value())
      state.SkipWithError("the read failed");
  }
  state.counters["reads/s"] = benchmark::Counter(static_cast<double>(i), benchmark::Counter::kIsRate);
}
BENCHMARK(store_find_one)->Unit(benchmark::kMicrosecond);

/// `range(0)` callers each queue one small batch through group commit and
/// wait for all of them: how many batches one durable commit absorbs.
void group_commit(benchmark::State& state) {
  temp_store store("FULL");
  auto db = persistence::with_group_commit(store.db, std::chrono::microseconds(200));
  std::int64_t i = 0;
  for (auto _ : state) {
    std::mutex m;
    std::condition_variable cv;
    std::int64_t pending = state.range(0);
    std::atomic<bool> failed{false};
    for (std::int64_t k = 0; k < state.range(0); ++k)
      db->write_batch_async({environment_row(i++)}, [&](status s) {
        if (!s.ok())
          failed = true;
        std::lock_guard lock(m);
        if (--pending == 0)
          cv.notify_one();
      });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return pending == 0; });
    if (failed)
      state.SkipWithError("a commit failed");
  }
  state.counters["batches/s"] = benchmark::Counter(static_cast<double>(i), benchmark::Counter::kIsRate);
}
BENCHMARK(group_commit)->Arg(1)->Arg(64)->Arg(512)->UseRealTime();

} // namespace

BENCHMARK_MAIN();

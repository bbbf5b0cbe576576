#include "actors/engine/records.hpp"

#include "actors/workflow/machine.hpp"
#include "dsl/parser.hpp"
#include "persistence/execution_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

#include <deque>

using namespace mistral;
using namespace mistral::engine;

namespace {

class counting_env final : public machine_env {
public:
  timestamp now() const override { return 1000 * ++clock_; }
  std::string new_id() override {
    // Ids that sort against creation order: the load must not order by id.
    return "id-" + std::to_string(1000000 - ++ids_);
  }
  std::optional<dsl::action_spec> find_adhoc_action(const std::string&, const std::string&) const override {
    return std::nullopt;
  }
  bool is_std_action(const std::string& name) const override { return name.rfind("std.", 0) == 0; }
  std::size_t take_items(std::size_t wanted) override {
    std::size_t n = std::min(wanted, items_left);
    items_left -= n;
    return n;
  }

  std::size_t items_left = SIZE_MAX; ///< what the next decision may start

private:
  mutable long clock_ = 0;
  int ids_ = 0;
};

} // namespace

TEST_CASE("a with-items task's executions come back from the store in creation order") {
  persistence::testing::fresh_db f;
  auto specs = dsl::validate_workflows("version: '2.0'\nwf:\n  tasks:\n    items:\n"
                                       "      with-items: i in <% range(30) %>\n      action: std.noop\n");
  REQUIRE(specs.ok());
  execution ex;
  ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  ex.wf.id = "wf-1";
  ex.wf.workflow_name = "wf";
  counting_env env;
  // Start, then complete half of the items, committing every decision.
  std::deque<event> events{ev_start{}};
  int completed = 0;
  while (!events.empty()) {
    auto d = decide(ex, events.front(), env);
    events.pop_front();
    REQUIRE(f.db->write_batch(writes_for(ex, d, 0)).ok());
    for (auto& c : d.commands)
      if (auto* r = std::get_if<cmd_run_action>(&c); r && completed++ < 15)
        events.push_back(ev_action_done{r->action_id, action::action_result::ok(nullptr)});
  }
  auto loaded = load_execution(*f.db, "wf-1");
  REQUIRE(loaded.ok());
  REQUIRE(loaded->tasks.size() == 1);
  CHECK(loaded->tasks[0].executions == ex.tasks[0].executions);
  CHECK(loaded->tasks[0].executions.size() == 30);
}

namespace {

/// The stored row of `id` in `table`, as the store reads it back.
persistence::record stored_row(persistence::database& db, const persistence::table_def& table,
                               const std::string& id) {
  auto row = db.find_one(table, {persistence::filter{"id", persistence::filter_op::eq, {id}}});
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  return **row;
}

/// `row` as the store reads it back: the columns of `table` that `row` has.
void check_stored_as(persistence::database& db, const persistence::table_def& table,
                     const persistence::record& row) {
  auto stored = stored_row(db, table, row["id"]);
  for (const auto& [column, value] : row.items())
    CHECK_MESSAGE(stored[column] == value,
                  std::string(table.name + "." + column + ": " + stored[column].dump() + " stored, " +
                              value.dump() + " expected"));
}

} // namespace

TEST_CASE("rows written whole once and then in part read back as the whole rows of the execution") {
  persistence::testing::fresh_db f;
  auto specs = dsl::validate_workflows(
    "version: '2.0'\nwf:\n  input:\n    - n: 3\n  tasks:\n    items:\n"
    "      with-items: i in <% range($.n) %>\n      action: std.echo output=<% $.i %>\n"
    "      publish:\n        got: <% task().result %>\n      on-success: last\n"
    "    last:\n      action: std.noop\n");
  REQUIRE(specs.ok());
  execution ex;
  ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  ex.wf.id = "wf-1";
  ex.wf.workflow_name = "wf";
  ex.wf.workflow_id = "wf-def";
  ex.wf.description = "parts";
  ex.wf.input = json{{"n", 3}};
  ex.wf.created_at = 5;
  counting_env env;
  std::deque<event> events{ev_start{}, ev_pause{}, ev_resume{json{{"k", "v"}}}};
  int decisions = 0;
  while (!events.empty()) {
    auto d = decide(ex, events.front(), env);
    events.pop_front();
    auto writes = writes_for(ex, d, 0);
    if (decisions++ > 0 && d.wf_dirty)
      for (const auto& w : writes)
        if (w.table == &persistence::workflow_executions_table())
          CHECK_FALSE(w.packed.has("spec")); // written with the first commit only
    REQUIRE(f.db->write_batch(writes).ok());
    for (auto& c : d.commands)
      if (auto* r = std::get_if<cmd_run_action>(&c))
        events.push_back(
          ev_action_done{r->action_id, action::action_result::ok(r->input.value("output", json()))});
  }
  REQUIRE(ex.wf.st == state::success);
  CHECK(ex.wf.params["env"] == json{{"k", "v"}});
  check_stored_as(*f.db, persistence::workflow_executions_table(), to_record(ex.wf, ex.spec->raw));
  REQUIRE(ex.tasks.size() == 2);
  for (const auto& t : ex.tasks)
    check_stored_as(*f.db, persistence::task_executions_table(), to_record(t, ex.wf));
  CHECK(ex.tasks[0].published == json{{"got", {0, 1, 2}}});
  REQUIRE(ex.actions.size() == 4);
  for (const auto& [id, a] : ex.actions)
    check_stored_as(*f.db, persistence::action_executions_table(),
                    to_record(a, ex.find_task(a.task_id), ex.wf));
  auto loaded = load_execution(*f.db, "wf-1");
  REQUIRE(loaded.ok());
  CHECK(loaded->wf.description == "parts");
  CHECK(loaded->wf.input == ex.wf.input);
  CHECK(loaded->wf.context == ex.wf.context);
  CHECK(loaded->wf.stored);
  CHECK(loaded->tasks[1].stored);
}

TEST_CASE("with-items items not started when the server stops start after a load from the store, once each") {
  persistence::testing::fresh_db f;
  auto specs = dsl::validate_workflows("version: '2.0'\nwf:\n  tasks:\n    items:\n"
                                       "      with-items: i in <% range(30) %>\n      action: std.noop\n");
  REQUIRE(specs.ok());
  execution ex;
  ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  ex.wf.id = "wf-1";
  ex.wf.workflow_name = "wf";
  counting_env env;
  // Decides and commits `ev` as the execution actor does: a fired timer's row
  // goes with the decision; the actions it starts answer later.
  std::deque<event> answers;
  auto apply = [&](execution& on, const event& ev) {
    env.items_left = 10;
    auto d = decide(on, ev, env);
    std::vector<persistence::write_op> writes;
    if (const auto* t = std::get_if<ev_timer>(&ev))
      writes.push_back(
        {persistence::write_op::kind::remove,
         &persistence::delayed_calls_table(),
         {},
         {persistence::filter{
           "id", persistence::filter_op::eq, {timer_id(t->task_id, static_cast<int>(t->kind))}}}});
    for (auto& w : writes_for(on, d, 0))
      writes.push_back(std::move(w));
    REQUIRE(f.db->write_batch(writes).ok());
    for (const auto& c : d.commands)
      if (const auto* r = std::get_if<cmd_run_action>(&c))
        answers.push_back(ev_action_done{r->action_id, action::action_result::ok(nullptr)});
    return d;
  };
  apply(ex, ev_start{});
  REQUIRE(ex.actions.size() == 10);
  while (!answers.empty()) {
    apply(ex, answers.front());
    answers.pop_front();
  }
  // The server stops here, its `items` timer not fired yet: the store has it.
  auto timers = f.db->list(persistence::delayed_calls_table(), {});
  REQUIRE(timers.ok());
  REQUIRE(timers->size() == 1);
  CHECK((*timers)[0]["kind"] == std::to_string(static_cast<int>(timer_kind::items)));
  auto loaded = load_execution(*f.db, "wf-1");
  REQUIRE(loaded.ok());
  execution again = std::move(*loaded);
  std::deque<event> pending{ev_timer{(*timers)[0]["task_execution_id"], timer_kind::items}};
  for (int guard = 0; !pending.empty() && guard < 1000; ++guard) {
    auto d = apply(again, pending.front());
    pending.pop_front();
    for (const auto& c : d.commands)
      if (const auto* t = std::get_if<cmd_schedule_timer>(&c))
        pending.push_back(ev_timer{t->task_id, t->kind});
    while (!answers.empty()) {
      pending.push_back(answers.front());
      answers.pop_front();
    }
  }
  CHECK(again.wf.st == state::success);
  REQUIRE(again.actions.size() == 30);
  std::vector<int> seen(30, 0);
  for (const auto& [id, a] : again.actions)
    ++seen.at(static_cast<std::size_t>(a.index));
  CHECK(std::count(seen.begin(), seen.end(), 1) == 30);
  auto left = f.db->list(persistence::delayed_calls_table(), {});
  REQUIRE(left.ok());
  CHECK(left->empty());
  auto stored = load_execution(*f.db, "wf-1");
  REQUIRE(stored.ok());
  CHECK(stored->actions.size() == 30);
  CHECK(stored->wf.st == state::success);
}

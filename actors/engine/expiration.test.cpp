#include "actors/engine/expiration.hpp"

#include "persistence/execution_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace mistral;
using namespace mistral::engine;
using persistence::filter;
using persistence::filter_op;
using persistence::write_op;

namespace {

constexpr timestamp minute = 60 * 1'000'000;

expiration_policy policy_of(const std::string& text) {
  auto cfg = config::load_text("[execution_expiration_policy]\n" + text);
  REQUIRE(cfg.ok());
  auto p = read_expiration_policy(*cfg);
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.err().message));
  return *p;
}

// A root execution `id` (or a sub-workflow of `root`) last updated at `updated`.
void add_execution(persistence::database& db, const std::string& id, const std::string& state,
                   timestamp updated, const std::string& root = "") {
  persistence::record wf = {{"id", id},
                            {"state", state},
                            {"created_at", updated},
                            {"updated_at", updated},
                            {"task_execution_id", root.empty() ? json(nullptr) : json("task-of-" + id)},
                            {"root_execution_id", root.empty() ? json(nullptr) : json(root)}};
  persistence::record task = {{"id", "task-in-" + id},
                              {"name", "t"},
                              {"workflow_execution_id", id},
                              {"state", state},
                              {"created_at", 1}};
  persistence::record action = {{"id", "action-in-" + id},
                                {"workflow_execution_id", id},
                                {"task_execution_id", "task-in-" + id},
                                {"state", state},
                                {"created_at", 1}};
  REQUIRE(db.write_batch({{write_op::kind::upsert, &persistence::workflow_executions_table(), wf, {}},
                          {write_op::kind::upsert, &persistence::task_executions_table(), task, {}},
                          {write_op::kind::upsert, &persistence::action_executions_table(), action, {}}})
            .ok());
}

std::vector<std::string> remaining(persistence::database& db, const persistence::table_def& t) {
  persistence::list_query q;
  auto rows = db.list(t, q);
  REQUIRE(rows.ok());
  std::vector<std::string> ids;
  for (const auto& r : *rows)
    ids.push_back(r["id"]);
  std::sort(ids.begin(), ids.end());
  return ids;
}

} // namespace

TEST_CASE("the policy is on only with an interval and older_than or max_finished_executions") {
  CHECK(policy_of("evaluation_interval = 60\nolder_than = 10080\n").enabled());
  CHECK(policy_of("evaluation_interval = 1\nmax_finished_executions = 5\n").enabled());
  CHECK_FALSE(policy_of("evaluation_interval =\nolder_than = 10\n").enabled());
  CHECK_FALSE(policy_of("evaluation_interval = 0\nolder_than = 10\n").enabled());
  CHECK_FALSE(policy_of("evaluation_interval = 5\nolder_than = 0\n").enabled());
  CHECK(policy_of("").enabled()); // this server's defaults: hourly, a week
}

TEST_CASE("ignored states must be terminal, as Mistral checks at start") {
  auto cfg = config::load_text("[execution_expiration_policy]\nignored_states = SUCCESS,RUNNING\n");
  REQUIRE(cfg.ok());
  auto p = read_expiration_policy(*cfg);
  REQUIRE_FALSE(p.ok());
  CHECK(p.err().message ==
        "RUNNING is not a terminal state. The valid states are [{'SUCCESS', 'ERROR', 'CANCELLED'}]");
  CHECK(deletable_states(policy_of("ignored_states = ERROR\n")) ==
        std::vector<std::string>{"SUCCESS", "CANCELLED"});
}

TEST_CASE("finished root executions older than older_than go with their tasks, actions and sub-workflows") {
  persistence::testing::fresh_db f;
  manual_clock clk(1000 * minute);
  add_execution(*f.db, "old-done", "SUCCESS", clk.now() - 20 * minute);
  add_execution(*f.db, "old-child", "SUCCESS", clk.now() - 20 * minute, "old-done");
  add_execution(*f.db, "old-failed", "ERROR", clk.now() - 11 * minute);
  add_execution(*f.db, "old-running", "RUNNING", clk.now() - 30 * minute);
  add_execution(*f.db, "recent", "SUCCESS", clk.now() - 5 * minute);
  auto p = policy_of("evaluation_interval = 1\nolder_than = 10\n");
  auto deleted = run_expiration_policy(*f.db, p, clk.now());
  REQUIRE(deleted.ok());
  CHECK(*deleted == 2);
  CHECK(remaining(*f.db, persistence::workflow_executions_table()) ==
        std::vector<std::string>{"old-running", "recent"});
  CHECK(remaining(*f.db, persistence::task_executions_table()) ==
        std::vector<std::string>{"task-in-old-running", "task-in-recent"});
  CHECK(remaining(*f.db, persistence::action_executions_table()) ==
        std::vector<std::string>{"action-in-old-running", "action-in-recent"});
  clk.advance(std::chrono::minutes(10));
  REQUIRE(run_expiration_policy(*f.db, p, clk.now()).ok());
  CHECK(remaining(*f.db, persistence::workflow_executions_table()) ==
        std::vector<std::string>{"old-running"});
}

TEST_CASE("only the newest max_finished_executions are kept, in batches, ignored states aside") {
  persistence::testing::fresh_db f;
  manual_clock clk(1000 * minute);
  for (int i = 0; i < 7; ++i)
    add_execution(*f.db, "e" + std::to_string(i), i == 0 ? "CANCELLED" : "SUCCESS", clk.now() - i * minute);
  auto p = policy_of("evaluation_interval = 1\nolder_than =\nmax_finished_executions = 2\nbatch_size = 2\n"
                     "ignored_states = CANCELLED\n");
  CHECK_FALSE(expired_query(p, clk.now()).has_value());
  auto deleted = run_expiration_policy(*f.db, p, clk.now());
  REQUIRE(deleted.ok());
  CHECK(*deleted == 4);
  CHECK(remaining(*f.db, persistence::workflow_executions_table()) ==
        std::vector<std::string>{"e0", "e1", "e2"});
}

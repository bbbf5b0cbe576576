#include "persistence/execution_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::persistence;

namespace {

using testing::fresh_db;

record execution_row(const std::string& id, const std::string& state, long long updated) {
  return {{"id", id},
          {"name", "wf"},
          {"workflow_name", "wf"},
          {"workflow_id", "wf-id"},
          {"workflow_namespace", ""},
          {"state", state},
          {"input", {{"k", "v"}}},
          {"output", json::object()},
          {"params", json::object()},
          {"spec", {{"tasks", json::object()}}},
          {"task_execution_id", nullptr},
          {"created_at", updated},
          {"updated_at", updated}};
}

record action_row(const std::string& id, const std::string& wf, const std::string& state) {
  return {{"id", id},
          {"name", "std.echo"},
          {"workflow_execution_id", wf},
          {"task_execution_id", "task-" + wf},
          {"state", state},
          {"accepted", true},
          {"is_workflow", false},
          {"input", {{"output", 1}}},
          {"params", {{"dispatch", {{"action", "std.echo"}, {"safe_rerun", true}}}}},
          {"created_at", 1}};
}

} // namespace

TEST_CASE("execution rows keep JSON, booleans and times through an upsert batch") {
  fresh_db f;
  std::vector<write_op> ops;
  for (int i = 0; i < 50; ++i)
    ops.push_back({write_op::kind::upsert,
                   &workflow_executions_table(),
                   execution_row("wf-" + std::to_string(i), "RUNNING", 1000 + i),
                   {}});
  REQUIRE(f.db->write_batch(ops).ok());
  // A second batch of the same ids updates them (prepared statements are not reused across rows).
  for (auto& op : ops)
    op.row["state"] = "SUCCESS";
  REQUIRE(f.db->write_batch(ops).ok());
  list_query q;
  q.filters = {{"state", filter_op::eq, {"SUCCESS"}}};
  auto rows = f.db->list(workflow_executions_table(), q);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 50);
  CHECK((*rows)[0]["input"]["k"] == "v");
  CHECK((*rows)[0]["task_execution_id"].is_null());
  CHECK((*rows)[0]["updated_at"] == 1000);
}

TEST_CASE("an action row keeps its dispatch in params and is found by an IN filter") {
  fresh_db f;
  REQUIRE(f.db->insert(action_executions_table(), action_row("a1", "wf-1", "RUNNING")).ok());
  REQUIRE(f.db->insert(action_executions_table(), action_row("a2", "wf-2", "SUCCESS")).ok());
  REQUIRE(f.db->insert(action_executions_table(), action_row("a3", "wf-3", "RUNNING")).ok());
  list_query q;
  q.filters = {{"workflow_execution_id", filter_op::in, {"wf-1", "wf-2"}},
               {"state", filter_op::eq, {"RUNNING"}}};
  auto rows = f.db->list(action_executions_table(), q);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  const record& a = rows->front();
  CHECK(a["id"] == "a1");
  CHECK(a["accepted"] == true);
  CHECK(a["is_workflow"] == false);
  CHECK(a["params"]["dispatch"]["safe_rerun"] == true);
  // An upsert without params leaves them as they are.
  record done = {{"id", "a1"}, {"state", "SUCCESS"}, {"name", "std.echo"}, {"created_at", 1}};
  REQUIRE(f.db->write_batch({{write_op::kind::upsert, &action_executions_table(), done, {}}}).ok());
  auto again = f.db->find_one(action_executions_table(), {{"id", filter_op::eq, {"a1"}}});
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  CHECK((**again)["state"] == "SUCCESS");
  CHECK((**again)["params"]["dispatch"]["action"] == "std.echo");
}

TEST_CASE("delayed calls are listed by due time and removed with their execution") {
  fresh_db f;
  for (int i = 0; i < 3; ++i)
    REQUIRE(f.db
              ->insert(delayed_calls_table(), {{"id", "t" + std::to_string(i) + ":0"},
                                               {"workflow_execution_id", i == 2 ? "wf-b" : "wf-a"},
                                               {"task_execution_id", "t" + std::to_string(i)},
                                               {"kind", "0"},
                                               {"fire_at", 3000 - i},
                                               {"created_at", 1}})
              .ok());
  list_query q;
  q.sort = {{"fire_at", false}};
  auto rows = f.db->list(delayed_calls_table(), q);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0]["id"] == "t2:0");
  auto removed = f.db->remove(delayed_calls_table(), {{"workflow_execution_id", filter_op::eq, {"wf-a"}}});
  REQUIRE(removed.ok());
  CHECK(*removed == 2);
}

TEST_CASE("a large JSON value round-trips") {
  fresh_db f;
  record row = execution_row("big", "SUCCESS", 1);
  row["output"] = {{"blob", std::string(2 * 1024 * 1024, 'x')}};
  REQUIRE(f.db->insert(workflow_executions_table(), row).ok());
  auto got = f.db->find_one(workflow_executions_table(), {{"id", filter_op::eq, {"big"}}});
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((**got)["output"]["blob"].get<std::string>().size() == 2 * 1024 * 1024);
}

TEST_CASE("SQLite runs in WAL mode: a commit lands in the write-ahead log") {
  if (testing::wants_postgresql())
    return; // a PostgreSQL property does not apply
  testing::fresh_url where;
  auto info = parse_connection_url(where.url);
  REQUIRE(info.ok());
  CHECK(info->sqlite_synchronous == "FULL");
  auto db = testing::open_or_fail(where.url);
  REQUIRE(db->migrate().ok());
  REQUIRE(db->insert(workflow_executions_table(), execution_row("wal", "RUNNING", 1)).ok());
  CHECK(std::filesystem::exists(info->sqlite_path + "-wal"));
}

#include "persistence/packed_row.hpp"

#include "persistence/execution_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::persistence;

namespace {

// The same values as a record and as a packed row, of every kind of column
// and of values that are not the column's own kind.
record as_record(const std::string& id) {
  return {{"id", id},
          {"name", "std.echo"},
          {"workflow_execution_id", "wf-1"},
          {"task_execution_id", nullptr},
          {"state", "RUNNING"},
          {"state_info", 42},
          {"accepted", true},
          {"is_workflow", 0},
          {"input", {{"output", "x"}, {"n", 1.5}}},
          {"output", "just text"},
          {"idx", 7},
          {"created_at", 1700000000123456LL},
          {"updated_at", nullptr}};
}

packed_row as_packed(const std::string& id) {
  packed_row p(action_executions_table());
  p.set("id", id)
    .set("name", "std.echo")
    .set("workflow_execution_id", std::string("wf-1"))
    .set("task_execution_id", std::optional<std::string>())
    .set("state", std::string_view("RUNNING"))
    .set("state_info", 42)
    .set("accepted", true)
    .set("is_workflow", 0)
    .set("input", json{{"output", "x"}, {"n", 1.5}})
    .set("output", json("just text"))
    .set("idx", 7)
    .set("created_at", std::optional<long>(1700000000123456L))
    .set("updated_at", nullptr)
    .set("no_such_column", "ignored");
  return p;
}

} // namespace

TEST_CASE("a packed row holds the columns it was given, as the store keeps them") {
  packed_row p = as_packed("a-1");
  CHECK(p.has("idx"));
  CHECK(p.has("updated_at"));
  CHECK_FALSE(p.has("params"));
  CHECK_FALSE(p.has("no_such_column"));
  record r = p.to_record();
  CHECK(r["state_info"] == "42"); // a number in a text column is its JSON text
  CHECK(r["output"] == "just text");
  CHECK(r["accepted"] == true);
  CHECK(r["is_workflow"] == false);
  CHECK(r["input"] == json{{"output", "x"}, {"n", 1.5}});
  CHECK(r["created_at"] == 1700000000123456LL);
  CHECK(r["updated_at"].is_null());
  CHECK(r["task_execution_id"].is_null());
  CHECK_FALSE(r.contains("params"));
}

TEST_CASE("a packed row is stored exactly as the record of the same values, and updates in part") {
  testing::fresh_db f;
  std::vector<write_op> ops;
  ops.push_back({write_op::kind::upsert, &action_executions_table(), as_record("by-record"), {}});
  ops.push_back({write_op::kind::upsert, &action_executions_table(), nullptr, {}, as_packed("by-packed")});
  REQUIRE(f.db->write_batch(ops).ok());
  auto by_record = f.db->find_one(action_executions_table(), {{"id", filter_op::eq, {"by-record"}}});
  auto by_packed = f.db->find_one(action_executions_table(), {{"id", filter_op::eq, {"by-packed"}}});
  REQUIRE(by_record.ok());
  REQUIRE(by_packed.ok());
  REQUIRE(by_record->has_value());
  REQUIRE(by_packed->has_value());
  record expected = **by_record;
  expected["id"] = "by-packed";
  CHECK(**by_packed == expected);
  CHECK((**by_packed)["output"] == "just text");

  // Only the columns set are written: the others keep their values.
  packed_row change(action_executions_table());
  change.set("id", "by-packed").set("state", "SUCCESS").set("created_at", 1L);
  REQUIRE(
    f.db->write_batch({{write_op::kind::upsert, &action_executions_table(), nullptr, {}, change}}).ok());
  auto changed = f.db->find_one(action_executions_table(), {{"id", filter_op::eq, {"by-packed"}}});
  REQUIRE(changed.ok());
  REQUIRE(changed->has_value());
  CHECK((**changed)["state"] == "SUCCESS");
  CHECK((**changed)["input"] == json{{"output", "x"}, {"n", 1.5}});
  CHECK((**changed)["idx"] == 7);
}

TEST_CASE("a packed row of another table is refused, not written to the wrong columns") {
  testing::fresh_db f;
  packed_row task(task_executions_table());
  task.set("id", "t-1").set("name", "t");
  auto done = f.db->write_batch({{write_op::kind::upsert, &action_executions_table(), nullptr, {}, task}});
  CHECK_FALSE(done.ok());
}

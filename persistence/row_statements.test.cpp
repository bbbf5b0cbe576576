#include "persistence/execution_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::persistence;

namespace {

using testing::fresh_db;

write_op upsert(record row) {
  return {write_op::kind::upsert, &task_executions_table(), std::move(row), {}};
}

write_op insert(record row) {
  return {write_op::kind::insert, &task_executions_table(), std::move(row), {}};
}

record task_row(const std::string& id, const std::string& state) {
  return {{"id", id},
          {"name", "t-" + id},
          {"workflow_execution_id", "wf"},
          {"state", state},
          {"state_info", nullptr},
          {"in_context", {{"k", id}}},
          {"published", json::object()},
          {"processed", true},
          {"next_tasks", json::array({json::array({"next", "on-success"})})},
          {"created_at", 10},
          {"updated_at", nullptr}};
}

record read(database& db, const std::string& id) {
  auto row = db.find_one(task_executions_table(), {filter{"id", filter_op::eq, {id}}});
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  return **row;
}

} // namespace

TEST_CASE("row writes with different present columns and nulls share statements and keep each row right") {
  fresh_db f;
  record a = task_row("a", "RUNNING");
  record b = task_row("b", "RUNNING");
  b["state_info"] = "why";   // same columns as a, other nulls
  b["updated_at"] = 20;      //
  b["in_context"] = nullptr; //
  record c = {{"id", "c"}, {"workflow_execution_id", "wf"}, {"state", "IDLE"}, {"created_at", 5}}; // a subset
  record d = task_row("d", "WAITING"); // a's statement again, other values
  d["processed"] = false;
  REQUIRE(f.db->write_batch({upsert(a), upsert(b), upsert(c), upsert(d)}).ok());

  auto ra = read(*f.db, "a");
  CHECK(ra["state"] == "RUNNING");
  CHECK(ra["state_info"].is_null());
  CHECK(ra["in_context"] == json{{"k", "a"}});
  CHECK(ra["processed"] == true);
  CHECK(ra["next_tasks"] == json::array({json::array({"next", "on-success"})}));
  CHECK(ra["updated_at"].is_null());
  auto rb = read(*f.db, "b");
  CHECK(rb["state_info"] == "why");
  CHECK(rb["updated_at"] == 20);
  CHECK(rb["in_context"].is_null());
  auto rc = read(*f.db, "c");
  CHECK(rc["state"] == "IDLE");
  CHECK(rc["name"].is_null());
  CHECK(rc["processed"] == false); // the column's default
  CHECK(rc["created_at"] == 5);
  auto rd = read(*f.db, "d");
  CHECK(rd["state"] == "WAITING");
  CHECK(rd["processed"] == false);
  CHECK(rd["in_context"] == json{{"k", "d"}});

  // An upsert of a subset changes those columns only (the NOT NULL ones
  // must be there for the insert it may be); keys in another order than the
  // table's and keys that are no column are fine.
  record partial = {{"state", "SUCCESS"},
                    {"not_a_column", 1},
                    {"id", "a"},
                    {"created_at", 10},
                    {"workflow_execution_id", "wf"},
                    {"published", {{"x", 1}}}};
  REQUIRE(f.db->write_batch({upsert(partial), upsert(task_row("e", "RUNNING"))}).ok());
  ra = read(*f.db, "a");
  CHECK(ra["state"] == "SUCCESS");
  CHECK(ra["published"] == json{{"x", 1}});
  CHECK(ra["name"] == "t-a");
  CHECK(ra["in_context"] == json{{"k", "a"}});
  CHECK_FALSE(ra.contains("not_a_column"));
  CHECK(read(*f.db, "e")["state"] == "RUNNING");
}

TEST_CASE("a row write that fails does not spoil the statement for the next rows of its shape") {
  fresh_db f;
  REQUIRE(f.db->write_batch({insert(task_row("a", "RUNNING"))}).ok());
  for (int round = 0; round < 2; ++round) {
    auto again = f.db->write_batch({insert(task_row("a", "ERROR"))});
    REQUIRE_FALSE(again.ok());
    CHECK(again.err().code == errc::conflict);
    auto alone = f.db->insert(task_executions_table(), task_row("a", "ERROR"));
    REQUIRE_FALSE(alone.ok());
    CHECK(alone.err().code == errc::conflict);
  }
  std::string id = "b";
  REQUIRE(f.db->write_batch({insert(task_row(id, "SUCCESS"))}).ok());
  REQUIRE(f.db->insert(task_executions_table(), task_row("c", "SUCCESS")).ok());
  CHECK(read(*f.db, "a")["state"] == "RUNNING");
  CHECK(read(*f.db, "b")["state"] == "SUCCESS");
  CHECK(read(*f.db, "c")["in_context"] == json{{"k", "c"}});
  // In a shared transaction the failing group is rolled back alone, the
  // others (same statements) commit.
  auto outcomes = f.db->write_groups({{insert(task_row("d", "RUNNING"))},
                                      {insert(task_row("x", "RUNNING")), insert(task_row("a", "RUNNING"))},
                                      {insert(task_row("e", "RUNNING"))}});
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].ok());
  CHECK_FALSE(outcomes[1].ok());
  CHECK(outcomes[2].ok());
  CHECK(read(*f.db, "e")["state"] == "RUNNING");
  auto x = f.db->find_one(task_executions_table(), {filter{"id", filter_op::eq, {"x"}}});
  REQUIRE(x.ok());
  CHECK_FALSE(x->has_value());
}

TEST_CASE("a list with columns reads only those columns, with the values a full read gives") {
  fresh_db f;
  std::vector<write_op> ops;
  for (int i = 0; i < 5; ++i) {
    record r = task_row("t" + std::to_string(i), i % 2 ? "RUNNING" : "SUCCESS");
    ops.push_back(upsert(std::move(r)));
  }
  REQUIRE(f.db->write_batch(ops).ok());
  list_query all;
  all.filters = {{"workflow_execution_id", filter_op::eq, {"wf"}}};
  all.sort = {{"created_at", false}, {"id", false}};
  auto full = f.db->list(task_executions_table(), all);
  REQUIRE(full.ok());
  REQUIRE(full->size() == 5);
  CHECK(full->front().size() == task_executions_table().columns.size());

  list_query some = all;
  some.columns = {"in_context", "state", "id"}; // any order: rows hold them in table order
  auto part = f.db->list(task_executions_table(), some);
  REQUIRE(part.ok());
  REQUIRE(part->size() == full->size());
  for (std::size_t i = 0; i < part->size(); ++i) {
    const record& p = (*part)[i];
    const record& w = (*full)[i];
    std::vector<std::string> keys;
    for (auto it = p.begin(); it != p.end(); ++it)
      keys.push_back(it.key());
    CHECK(keys == std::vector<std::string>{"id", "state", "in_context"});
    CHECK(p["id"] == w["id"]);
    CHECK(p["state"] == w["state"]);
    CHECK(p["in_context"] == w["in_context"]);
  }

  auto one = f.db->find_one(task_executions_table(), {filter{"id", filter_op::eq, {"t3"}}}, {"processed"});
  REQUIRE(one.ok());
  REQUIRE(one->has_value());
  CHECK(**one == json{{"processed", true}});

  list_query bad = all;
  bad.columns = {"state", "nope"};
  auto refused = f.db->list(task_executions_table(), bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::invalid_input);
}

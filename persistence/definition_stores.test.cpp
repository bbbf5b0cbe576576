#include "persistence/definition_stores.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::persistence;

namespace {

using testing::fresh_db;

record workflow(const std::string& id, const std::string& name, long long created,
                const std::string& ns = "") {
  return {{"id", id},
          {"name", name},
          {"namespace", ns},
          {"definition", "version: '2.0'"},
          {"spec", {{"tasks", {{"t1", {{"action", "std.noop"}}}}}}},
          {"tags", json::array({"a", "b"})},
          {"scope", "private"},
          {"project_id", "<default-project>"},
          {"created_at", created},
          {"updated_at", nullptr},
          {"input", "x, y=1"},
          {"is_system", false}};
}

} // namespace

TEST_CASE("connection URLs of SQLite and PostgreSQL are read as Mistral writes them") {
  auto rel = parse_connection_url("sqlite:///data/mistral.db");
  REQUIRE(rel.ok());
  CHECK(rel->kind == backend::sqlite);
  CHECK(rel->sqlite_path == "data/mistral.db");
  auto abs = parse_connection_url("sqlite:////var/lib/mistral.db");
  REQUIRE(abs.ok());
  CHECK(abs->sqlite_path == "/var/lib/mistral.db");
  auto pg = parse_connection_url("postgresql+psycopg2://mistral:secret@127.0.0.1:5432/mistral");
  REQUIRE(pg.ok());
  CHECK(pg->kind == backend::postgresql);
  CHECK(pg->soci_connect == "dbname=mistral host=127.0.0.1 port=5432 user=mistral password=secret");
  auto socket =
    parse_connection_url("postgresql://me@/db?host=/run/postgresql&options=-csearch_path%3Dt%201");
  REQUIRE(socket.ok());
  CHECK(socket->soci_connect == "dbname=db user=me host=/run/postgresql options='-csearch_path=t 1'");
  CHECK_FALSE(parse_connection_url("postgresql://me@host/").ok());
  CHECK_FALSE(parse_connection_url("mysql://x/y").ok());
  CHECK_FALSE(parse_connection_url("sqlite://").ok());
}

TEST_CASE("migrations apply once and are recorded in order") {
  fresh_db f;
  auto applied = f.db->applied();
  REQUIRE(applied.ok());
  REQUIRE_FALSE(applied->empty());
  CHECK(applied->front().version == 1);
  auto again = f.db->migrate();
  REQUIRE(again.ok());
  CHECK(again->empty());
}

TEST_CASE("a workflow definition round-trips with JSON, boolean and time columns") {
  fresh_db f;
  workflow_definition_store store(f.db);
  REQUIRE(store.create(workflow("id-1", "wf1", 1000)).ok());
  auto got = store.get_by_name("wf1", "");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  const record& r = **got;
  CHECK(r["id"] == "id-1");
  CHECK(r["spec"]["tasks"]["t1"]["action"] == "std.noop");
  CHECK(r["tags"] == json::array({"a", "b"}));
  CHECK(r["is_system"] == false);
  CHECK(r["created_at"] == 1000);
  CHECK(r["updated_at"].is_null());
  auto by_id = store.get_by_id("id-1");
  REQUIRE(by_id.ok());
  CHECK(by_id->has_value());
}

TEST_CASE("a duplicate name in the same namespace is a conflict") {
  fresh_db f;
  workflow_definition_store store(f.db);
  REQUIRE(store.create(workflow("id-1", "wf1", 1)).ok());
  auto dup = store.create(workflow("id-2", "wf1", 2));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.err().code == errc::conflict);
  CHECK(store.create(workflow("id-3", "wf1", 3, "other")).ok());
}

TEST_CASE("update and remove report how many rows they touched") {
  fresh_db f;
  workflow_definition_store store(f.db);
  REQUIRE(store.create(workflow("id-1", "wf1", 1)).ok());
  auto changed = store.update("id-1", {{"definition", "new"}, {"updated_at", 5}});
  REQUIRE(changed.ok());
  CHECK(*changed == 1);
  CHECK((**store.get_by_id("id-1"))["definition"] == "new");
  CHECK(*store.remove("id-1") == 1);
  CHECK(*store.remove("id-1") == 0);
  CHECK_FALSE(store.get_by_id("id-1")->has_value());
}

TEST_CASE("lists filter with every operator") {
  fresh_db f;
  workflow_definition_store store(f.db);
  for (int i = 0; i < 5; ++i)
    REQUIRE(store.create(workflow("id-" + std::to_string(i), "wf" + std::to_string(i), 100 + i)).ok());
  auto count = [&](std::vector<filter> where) {
    list_query q;
    q.filters = std::move(where);
    auto rows = store.list(q);
    REQUIRE(rows.ok());
    return rows->size();
  };
  CHECK(count({{"name", filter_op::eq, {"wf1"}}}) == 1);
  CHECK(count({{"name", filter_op::neq, {"wf1"}}}) == 4);
  CHECK(count({{"created_at", filter_op::gt, {102}}}) == 2);
  CHECK(count({{"created_at", filter_op::gte, {102}}}) == 3);
  CHECK(count({{"created_at", filter_op::lt, {102}}}) == 2);
  CHECK(count({{"created_at", filter_op::lte, {102}}}) == 3);
  CHECK(count({{"name", filter_op::in, {"wf1", "wf3", "nope"}}}) == 2);
  CHECK(count({{"name", filter_op::nin, {"wf1", "wf3"}}}) == 3);
  CHECK(count({{"name", filter_op::has, {"f4"}}}) == 1);
  CHECK(count({{"updated_at", filter_op::is_null, {}}}) == 5);
}

TEST_CASE("lists sort in both directions, page after a marker and skip rows") {
  fresh_db f;
  workflow_definition_store store(f.db);
  for (int i = 0; i < 5; ++i)
    REQUIRE(store.create(workflow("id-" + std::to_string(i), "wf" + std::to_string(i), 100 + i % 2)).ok());
  list_query q;
  q.sort = {{"created_at", true}, {"id", false}};
  q.limit = 2;
  std::vector<std::string> seen;
  for (int page = 0; page < 4; ++page) {
    auto rows = store.list(q);
    REQUIRE(rows.ok());
    for (const auto& r : *rows)
      seen.push_back(r["id"].get<std::string>());
    if (rows->size() < 2)
      break;
    q.marker = rows->back()["id"].get<std::string>();
  }
  CHECK(seen == std::vector<std::string>{"id-1", "id-3", "id-0", "id-2", "id-4"});
  list_query skip;
  skip.sort = {{"id", false}};
  skip.offset = 3;
  auto rest = store.list(skip);
  REQUIRE(rest.ok());
  REQUIRE(rest->size() == 2);
  CHECK((*rest)[0]["id"] == "id-3");
  skip.limit = 1;
  CHECK(store.list(skip)->size() == 1);
  q.marker = "missing";
  auto bad = store.list(q);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::not_found);
}

TEST_CASE("environments are found by name") {
  fresh_db f;
  environment_store store(f.db);
  REQUIRE(store
            .create({{"id", "e1"},
                     {"name", "env1"},
                     {"description", nullptr},
                     {"variables", {{"k", "v"}}},
                     {"scope", "private"},
                     {"project_id", "<default-project>"},
                     {"created_at", 1}})
            .ok());
  auto got = store.get_by_name("env1");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((**got)["variables"]["k"] == "v");
  CHECK((**got)["description"].is_null());
}

TEST_CASE("a write batch upserts and deletes in one transaction") {
  fresh_db f;
  const table_def& t = workflow_definitions_table();
  std::vector<write_op> ops;
  ops.push_back({write_op::kind::upsert, &t, workflow("id-1", "wf1", 1), {}});
  ops.push_back({write_op::kind::upsert, &t, workflow("id-2", "wf2", 2), {}});
  REQUIRE(f.db->write_batch(ops).ok());
  auto changed = workflow("id-1", "wf1", 1);
  changed["definition"] = "changed";
  std::vector<write_op> second;
  second.push_back({write_op::kind::upsert, &t, changed, {}});
  second.push_back({write_op::kind::remove, &t, {}, {filter{"id", filter_op::eq, {"id-2"}}}});
  REQUIRE(f.db->write_batch(second).ok());
  workflow_definition_store store(f.db);
  CHECK((**store.get_by_id("id-1"))["definition"] == "changed");
  CHECK_FALSE(store.get_by_id("id-2")->has_value());
  // A failing write rolls back the whole batch.
  std::vector<write_op> bad;
  bad.push_back({write_op::kind::upsert, &t, workflow("id-3", "wf3", 3), {}});
  bad.push_back({write_op::kind::upsert, &t, workflow("id-4", "wf1", 4), {}}); // duplicate name
  auto failed = f.db->write_batch(bad);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.err().code == errc::conflict);
  CHECK_FALSE(store.get_by_id("id-3")->has_value());
}

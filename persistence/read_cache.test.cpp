// The SOCI store prepares each read once per session and re-executes it:
// these check that a re-executed read sees the database as it is now.
#include "persistence/database.hpp"
#include "persistence/lease_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::persistence;

namespace {

record lease_row(const std::string& id, const std::string& owner) {
  return {{"id", id}, {"owner_node", owner}, {"owner_epoch", 1}, {"finished", false}, {"claimed_at", 1}};
}

json owner_of(database& db, const std::string& id) {
  auto row = db.find_one(execution_leases_table(), {filter{"id", filter_op::eq, {id}}});
  REQUIRE(row.ok());
  return row->has_value() ? (**row)["owner_node"] : json();
}

std::vector<std::string> ids_owned_by(database& db, const std::string& owner) {
  list_query q;
  q.filters = {filter{"owner_node", filter_op::eq, {owner}}};
  auto rows = db.list(execution_leases_table(), q);
  REQUIRE(rows.ok());
  std::vector<std::string> out;
  for (const auto& r : *rows)
    out.push_back(r["id"].get<std::string>());
  return out;
}

} // namespace

TEST_CASE("a repeated read returns the rows of its new values, not those of its first run") {
  testing::fresh_db f;
  REQUIRE(f.db->insert(execution_leases_table(), lease_row("e1", "a")).ok());
  REQUIRE(f.db->insert(execution_leases_table(), lease_row("e2", "b")).ok());
  REQUIRE(f.db->insert(execution_leases_table(), lease_row("e3", "b")).ok());
  for (int round = 0; round < 3; ++round) {
    CHECK(owner_of(*f.db, "e1") == "a");
    CHECK(owner_of(*f.db, "e2") == "b");
    CHECK(owner_of(*f.db, "missing").is_null());
    CHECK(ids_owned_by(*f.db, "a") == std::vector<std::string>{"e1"});
    CHECK(ids_owned_by(*f.db, "b") == std::vector<std::string>{"e2", "e3"});
    CHECK(ids_owned_by(*f.db, "c").empty());
  }
}

TEST_CASE("a repeated read sees what another connection wrote since its last run") {
  testing::fresh_db f;
  auto other = testing::open_or_fail(f.where.url);
  REQUIRE(f.db->insert(execution_leases_table(), lease_row("e1", "a")).ok());
  CHECK(owner_of(*f.db, "e1") == "a");
  CHECK(ids_owned_by(*f.db, "a") == std::vector<std::string>{"e1"});

  auto moved =
    other->update(execution_leases_table(), {filter{"id", filter_op::eq, {"e1"}}}, {{"owner_node", "b"}});
  REQUIRE(moved.ok());
  CHECK(*moved == 1);
  REQUIRE(other->insert(execution_leases_table(), lease_row("e2", "a")).ok());

  CHECK(owner_of(*f.db, "e1") == "b");
  CHECK(ids_owned_by(*f.db, "a") == std::vector<std::string>{"e2"});
  REQUIRE(other->remove(execution_leases_table(), {}).ok());
  CHECK(owner_of(*f.db, "e1").is_null());
  CHECK(ids_owned_by(*f.db, "a").empty());
}

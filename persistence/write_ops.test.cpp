#include "persistence/database.hpp"
#include "persistence/lease_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::persistence;

namespace {

write_op lease(const std::string& id, const std::string& owner) {
  return {write_op::kind::insert,
          &execution_leases_table(),
          {{"id", id}, {"owner_node", owner}, {"owner_epoch", 1}, {"finished", false}, {"claimed_at", 1}},
          {}};
}

write_op expect_owner(const std::string& id, const std::string& owner, bool finished) {
  return {write_op::kind::expect,
          &execution_leases_table(),
          {{"finished", finished}},
          {filter{"id", filter_op::eq, {id}}, filter{"owner_node", filter_op::eq, {owner}}}};
}

json row_of(database& db, const std::string& id) {
  auto row = db.find_one(execution_leases_table(), {filter{"id", filter_op::eq, {id}}});
  REQUIRE(row.ok());
  return row->has_value() ? **row : json();
}

} // namespace

TEST_CASE("an insert write of an id that exists fails its batch with a conflict") {
  testing::fresh_db f;
  REQUIRE(f.db->write_batch({lease("e1", "a")}).ok());
  auto again = f.db->write_batch({lease("e2", "a"), lease("e1", "b")});
  REQUIRE_FALSE(again.ok());
  CHECK(again.err().code == errc::conflict);
  CHECK(row_of(*f.db, "e1")["owner_node"] == "a");
  CHECK(row_of(*f.db, "e2").is_null()); // all or nothing
}

TEST_CASE("an expect write sets its columns when its row matches and fails the batch when none does") {
  testing::fresh_db f;
  REQUIRE(f.db->write_batch({lease("e1", "a")}).ok());
  REQUIRE(f.db->write_batch({expect_owner("e1", "a", true)}).ok());
  CHECK(row_of(*f.db, "e1")["finished"] == true);
  auto fenced = f.db->write_batch({lease("e2", "b"), expect_owner("e1", "b", false)});
  REQUIRE_FALSE(fenced.ok());
  CHECK(fenced.err().code == errc::conflict);
  CHECK(fenced.err().message == fenced_message);
  CHECK(row_of(*f.db, "e1")["finished"] == true);
  CHECK(row_of(*f.db, "e2").is_null());
}

TEST_CASE("a fenced group of a shared transaction is rolled back alone") {
  testing::fresh_db f;
  REQUIRE(f.db->write_batch({lease("e1", "a")}).ok());
  auto outcomes = f.db->write_groups({{lease("e2", "a"), expect_owner("e1", "a", true)},
                                      {lease("e3", "b"), expect_owner("e1", "b", false)},
                                      {lease("e4", "a")}});
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].ok());
  REQUIRE_FALSE(outcomes[1].ok());
  CHECK(outcomes[1].err().message == fenced_message);
  CHECK(outcomes[2].ok());
  CHECK(row_of(*f.db, "e2")["owner_node"] == "a");
  CHECK(row_of(*f.db, "e3").is_null());
  CHECK(row_of(*f.db, "e4")["owner_node"] == "a");
  CHECK(row_of(*f.db, "e1")["finished"] == true);
}

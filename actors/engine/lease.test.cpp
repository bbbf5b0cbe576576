#include "actors/engine/lease.hpp"

#include "persistence/lease_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

using namespace mistral;
using namespace mistral::engine;

namespace {

constexpr timestamp ttl = 3'000'000;
constexpr timestamp second = 1'000'000;

const lease_owner me{"b", 4};

lease_row lease(const std::string& id, const std::string& node, std::int64_t epoch, bool finished = false) {
  return {id, node, epoch, finished};
}

} // namespace

TEST_CASE("an engine is alive while its heartbeat changes and dead once it stood still longer than the TTL") {
  liveness_view v(ttl);
  v.observe({{"a", 1, 100}}, 0);
  CHECK_FALSE(v.dead("a", 1, me, 0));
  CHECK_FALSE(v.dead("a", 1, me, ttl)); // a node first seen gets a whole TTL
  v.observe({{"a", 1, 200}}, 2 * second);
  CHECK_FALSE(v.dead("a", 1, me, 2 * second + ttl));
  v.observe({{"a", 1, 200}}, 4 * second); // unchanged: counts from 2 s
  CHECK(v.dead("a", 1, me, 2 * second + ttl + 1));
  v.observe({{"a", 1, 300}}, 6 * second); // it came back
  CHECK_FALSE(v.dead("a", 1, me, 6 * second));
}

TEST_CASE("a lease whose incarnation has no row is dead at once, an earlier epoch with a row lives by its "
          "heartbeat") {
  liveness_view v(ttl);
  v.observe({{"a", 1, 100}, {"a", 2, 100}, {"b", 3, 100}, {"b", 4, 100}}, 0);
  CHECK_FALSE(v.dead("a", 1, me, 0)); // two processes of one name: both live
  CHECK_FALSE(v.dead("a", 2, me, 0));
  CHECK(v.dead("a", 3, me, 0));    // no row
  CHECK(v.dead("gone", 1, me, 0)); // no row at all
  CHECK(v.dead("", 0, me, 0));     // leases from a store older than leases
  CHECK_FALSE(v.dead("b", 3, me, ttl));
  CHECK(v.dead("b", 3, me, ttl + 1));         // my earlier epoch stood still
  CHECK_FALSE(v.dead("b", 4, me, 100 * ttl)); // I am never dead to myself
}

TEST_CASE("a message goes to the local actor, the live owner, or claims the lease of a dead one") {
  liveness_view v(ttl);
  v.observe({{"a", 1, 100}, {"b", 4, 100}}, 0);
  CHECK(route_message(std::nullopt, me, v, 0).what == route::kind::claim_new);
  CHECK(route_message(lease("e", "b", 4), me, v, 0).what == route::kind::local);
  auto fwd = route_message(lease("e", "a", 1), me, v, second);
  CHECK(fwd.what == route::kind::forward);
  CHECK(fwd.node == "a");
  CHECK(route_message(lease("e", "a", 1), me, v, ttl + 1).what == route::kind::claim);
  CHECK(route_message(lease("e", "b", 3), me, v, 0).what == route::kind::claim);
}

TEST_CASE("a takeover claims the unfinished leases of dead owners only") {
  liveness_view v(ttl);
  v.observe({{"a", 1, 100}, {"b", 4, 100}, {"c", 1, 100}}, 0);
  v.observe({{"a", 1, 100}, {"b", 4, 100}, {"c", 1, 200}}, ttl); // a stood still, c beats
  std::vector<lease_row> candidates = {lease("1", "a", 1), lease("2", "a", 1, true), lease("3", "c", 1),
                                       lease("4", "b", 4), lease("5", "b", 2),       lease("6", "x", 9),
                                       lease("7", "c", 0)};
  auto claims = plan_takeover(candidates, me, v, ttl + 1);
  std::vector<std::string> ids;
  for (const auto& l : claims)
    ids.push_back(l.execution_id);
  CHECK(ids == std::vector<std::string>{"1", "5", "6", "7"});
}

TEST_CASE("in its first scan a restarted engine claims its earlier epochs at once, later ones by heartbeat") {
  liveness_view v(ttl);
  v.observe({{"b", 2, 100}, {"b", 4, 100}, {"b", 5, 100}}, 0);
  std::vector<lease_row> candidates = {lease("old", "b", 2), lease("newer", "b", 5), lease("mine", "b", 4)};
  auto ids = [](const std::vector<lease_row>& rows) {
    std::vector<std::string> out;
    for (const auto& l : rows)
      out.push_back(l.execution_id);
    return out;
  };
  CHECK(ids(plan_takeover(candidates, me, v, 0, true)) == std::vector<std::string>{"old"});
  CHECK(ids(plan_takeover(candidates, me, v, 0, false)).empty());
  CHECK(ids(plan_takeover(candidates, me, v, ttl + 1, false)) == std::vector<std::string>{"old", "newer"});
}

TEST_CASE("every start of a node registers its next epoch, each with its own heartbeat row") {
  persistence::testing::fresh_db f;
  auto first = register_node(*f.db, "n1", 10);
  REQUIRE(first.ok());
  CHECK(*first == 1);
  auto second_start = register_node(*f.db, "n1", 12);
  REQUIRE(second_start.ok());
  CHECK(*second_start == 2);
  auto other = register_node(*f.db, "n2", 12);
  REQUIRE(other.ok());
  CHECK(*other == 1);
  auto beat = write_heartbeat(*f.db, {"n1", 1}, 20);
  REQUIRE(beat.ok());
  CHECK(*beat);
  auto unknown = write_heartbeat(*f.db, {"n1", 7}, 20);
  REQUIRE(unknown.ok());
  CHECK_FALSE(*unknown);
  auto nodes = read_nodes(*f.db);
  REQUIRE(nodes.ok());
  REQUIRE(nodes->size() == 3);
  std::map<std::string, timestamp> beats;
  for (const auto& n : *nodes)
    beats[incarnation_id(n.name, n.epoch)] = n.heartbeat_at;
  CHECK(beats == std::map<std::string, timestamp>{{"n1#1", 20}, {"n1#2", 12}, {"n2#1", 12}});
}

TEST_CASE("of two engines claiming the same lease at the same time exactly one wins") {
  persistence::testing::fresh_db f;
  for (int round = 0; round < 20; ++round) {
    std::string id = "e" + std::to_string(round);
    REQUIRE(f.db->write_batch({own_op(id, {"dead", 1}, 1)}).ok());
    auto seen = read_lease(*f.db, id);
    REQUIRE(seen.ok());
    REQUIRE(seen->has_value());
    std::atomic<int> wins{0}, failures{0};
    auto racer = [&](lease_owner who) {
      auto won = claim(*f.db, **seen, who, 2);
      if (!won.ok())
        ++failures;
      else if (*won)
        ++wins;
    };
    std::thread x(racer, lease_owner{"x", 1}), y(racer, lease_owner{"y", 1});
    x.join();
    y.join();
    CHECK(failures == 0);
    CHECK(wins == 1);
    auto after = read_lease(*f.db, id);
    REQUIRE(after.ok());
    CHECK(((**after).owner_node == "x" || (**after).owner_node == "y"));
  }
  auto fresh = claim_new(*f.db, "new", {"x", 1}, 3);
  REQUIRE(fresh.ok());
  CHECK(*fresh);
  auto late = claim_new(*f.db, "new", {"y", 1}, 3);
  REQUIRE(late.ok());
  CHECK_FALSE(*late);
}

TEST_CASE("a commit fenced by a lease another engine claimed is refused and changes nothing") {
  persistence::testing::fresh_db f;
  lease_owner a{"a", 1}, b{"b", 1};
  REQUIRE(f.db->write_batch({own_op("e", a, 1)}).ok());
  REQUIRE(f.db->write_batch({fence_op("e", a, false)}).ok());
  auto seen = read_lease(*f.db, "e");
  REQUIRE(seen.ok());
  auto won = claim(*f.db, **seen, b, 2);
  REQUIRE(won.ok());
  CHECK(*won);
  auto late = f.db->write_batch({fence_op("e", a, true)});
  REQUIRE_FALSE(late.ok());
  CHECK(is_fenced(late.err()));
  auto row = read_lease(*f.db, "e");
  REQUIRE(row.ok());
  CHECK((**row).owner_node == "b");
  CHECK_FALSE((**row).finished);
  CHECK(f.db->write_batch({fence_op("e", b, true)}).ok());
}

TEST_CASE("the takeover scan reads the leases of dead incarnations and unknown owners, not live ones") {
  persistence::testing::fresh_db f;
  REQUIRE(register_node(*f.db, "a", 1).ok()); // a#1: will die
  REQUIRE(register_node(*f.db, "c", 1).ok()); // c#1 and c#2: two live processes of one name
  REQUIRE(register_node(*f.db, "c", 1).ok());
  REQUIRE(register_node(*f.db, "b", 1).ok()); // b#1: earlier epoch of me
  REQUIRE(register_node(*f.db, "b", 1).ok()); // b#2 = me
  lease_owner self{"b", 2};
  REQUIRE(f.db
            ->write_batch({own_op("a1", {"a", 1}, 1), own_op("c1", {"c", 1}, 1), own_op("c2", {"c", 2}, 1),
                           own_op("b1", {"b", 1}, 1), own_op("b2", self, 1), own_op("o1", {"", 0}, 1),
                           own_op("z1", {"zz", 3}, 1), own_op("c9", {"c", 9}, 1)})
            .ok());
  auto nodes = read_nodes(*f.db);
  REQUIRE(nodes.ok());
  liveness_view v(ttl);
  v.observe(*nodes, 0);
  auto ids_of = [](const std::vector<lease_row>& rows) {
    std::set<std::string> ids;
    for (const auto& l : rows)
      ids.insert(l.execution_id);
    return ids;
  };
  auto first = read_takeover_candidates(*f.db, self, v, 1, true);
  REQUIRE(first.ok());
  CHECK(ids_of(*first) ==
        std::set<std::string>{"b1", "c9", "o1", "z1"}); // my restart, and owners without a row
  CHECK(ids_of(plan_takeover(*first, self, v, 1, true)) == ids_of(*first));
  auto later = read_takeover_candidates(*f.db, self, v, 1, false);
  REQUIRE(later.ok());
  CHECK(ids_of(*later) == std::set<std::string>{"c9", "o1", "z1"});
  // c's two processes beat, a and my earlier epoch stand still.
  REQUIRE(write_heartbeat(*f.db, {"c", 1}, 5).ok());
  REQUIRE(write_heartbeat(*f.db, {"c", 2}, 5).ok());
  nodes = read_nodes(*f.db);
  REQUIRE(nodes.ok());
  v.observe(*nodes, ttl);
  auto late = read_takeover_candidates(*f.db, self, v, ttl + 1);
  REQUIRE(late.ok());
  CHECK(ids_of(plan_takeover(*late, self, v, ttl + 1)) ==
        std::set<std::string>{"a1", "b1", "c9", "o1", "z1"});
}

TEST_CASE("a bulk claim takes the leases still held by their dead owners and reports which it won") {
  persistence::testing::fresh_db f;
  lease_owner a{"a", 1}, c{"c", 1};
  REQUIRE(f.db->write_batch({own_op("1", a, 1), own_op("2", a, 1), own_op("3", {"old", 2}, 1)}).ok());
  std::vector<lease_row> seen = {lease("1", "a", 1), lease("2", "a", 1), lease("3", "old", 2)};
  // Another engine was faster for "2".
  REQUIRE(claim(*f.db, seen[1], c, 2).ok());
  auto won = claim_all(*f.db, seen, me, 3);
  REQUIRE(won.ok());
  std::set<std::string> ids(won->begin(), won->end());
  CHECK(ids == std::set<std::string>{"1", "3"});
  auto two = read_lease(*f.db, "2");
  REQUIRE(two.ok());
  CHECK((**two).owner_node == "c");
}

#include "actors/engine/lease.hpp"

#include "persistence/lease_tables.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

#include <atomic>
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

TEST_CASE("a lease of an earlier epoch, of a node without a row, or of my earlier epoch is dead at once") {
  liveness_view v(ttl);
  v.observe({{"a", 2, 100}, {"b", 4, 100}}, 0);
  CHECK(v.dead("a", 1, me, 0));               // a restarted: its epoch 1 is gone
  CHECK_FALSE(v.dead("a", 2, me, 0));         // its current epoch lives
  CHECK(v.dead("gone", 1, me, 0));            // no row at all
  CHECK(v.dead("", 0, me, 0));                // leases from a store older than leases
  CHECK(v.dead("b", 3, me, 0));               // my own earlier epoch: I restarted
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

TEST_CASE("a node registers a new epoch at every start, and an old epoch's heartbeat is refused") {
  persistence::testing::fresh_db f;
  auto first = register_node(*f.db, "n1", 10);
  REQUIRE(first.ok());
  CHECK(*first == 1);
  auto beat = write_heartbeat(*f.db, {"n1", 1}, 11);
  REQUIRE(beat.ok());
  CHECK(*beat);
  auto second_start = register_node(*f.db, "n1", 12);
  REQUIRE(second_start.ok());
  CHECK(*second_start == 2);
  auto stale = write_heartbeat(*f.db, {"n1", 1}, 13);
  REQUIRE(stale.ok());
  CHECK_FALSE(*stale);
  auto nodes = read_nodes(*f.db);
  REQUIRE(nodes.ok());
  REQUIRE(nodes->size() == 1);
  CHECK((*nodes)[0].epoch == 2);
  CHECK((*nodes)[0].heartbeat_at == 12);
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

TEST_CASE("the takeover scan reads the leases of dead, restarted and unknown owners, not live ones") {
  persistence::testing::fresh_db f;
  REQUIRE(register_node(*f.db, "a", 1).ok()); // a: epoch 1, will die
  REQUIRE(register_node(*f.db, "c", 1).ok()); // c: epoch 1, lives
  REQUIRE(register_node(*f.db, "c", 1).ok()); // c restarted: epoch 2
  REQUIRE(register_node(*f.db, "b", 1).ok()); // b = me, epoch 1
  lease_owner self{"b", 1};
  REQUIRE(f.db
            ->write_batch({own_op("a1", {"a", 1}, 1), own_op("c1", {"c", 1}, 1), own_op("c2", {"c", 2}, 1),
                           own_op("b1", self, 1), own_op("o1", {"", 0}, 1), own_op("z1", {"zz", 3}, 1)})
            .ok());
  REQUIRE(f.db->write_batch({fence_op("a1", {"a", 1}, false)}).ok());
  auto nodes = read_nodes(*f.db);
  REQUIRE(nodes.ok());
  liveness_view v(ttl);
  v.observe(*nodes, 0);
  auto early = read_takeover_candidates(*f.db, self, v, 1);
  REQUIRE(early.ok());
  auto ids_of = [&](const std::vector<lease_row>& rows) {
    std::set<std::string> ids;
    for (const auto& l : plan_takeover(rows, self, v, ttl + 1))
      ids.insert(l.execution_id);
    return ids;
  };
  std::set<std::string> read;
  for (const auto& l : *early)
    read.insert(l.execution_id);
  CHECK(read == std::set<std::string>{"c1", "o1", "z1"}); // a still counts as alive
  // a's and c's heartbeats: c beats, a stands still.
  REQUIRE(write_heartbeat(*f.db, {"c", 2}, 5).ok());
  nodes = read_nodes(*f.db);
  REQUIRE(nodes.ok());
  v.observe(*nodes, ttl);
  auto late = read_takeover_candidates(*f.db, self, v, ttl + 1);
  REQUIRE(late.ok());
  // observed at ttl: a unchanged since 0 → dead at ttl + 1.
  CHECK(ids_of(*late) == std::set<std::string>{"a1", "c1", "o1", "z1"});
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

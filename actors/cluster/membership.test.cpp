#include "actors/cluster/membership.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::cluster;

namespace {

member node(std::string name, std::vector<std::string> roles, std::uint16_t port, std::string target = "") {
  return member{std::move(name), std::move(roles), "127.0.0.1", port, std::move(target)};
}

} // namespace

TEST_CASE("a seed address is host colon port") {
  auto e = parse_endpoint(" 10.0.0.7:19101 ");
  REQUIRE(e.ok());
  CHECK(e->host == "10.0.0.7");
  CHECK(e->port == 19101);
  CHECK(e->text() == "10.0.0.7:19101");
  auto v6 = parse_endpoint("[::1]:4000");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->text() == "[::1]:4000");
}

TEST_CASE("a seed address without a valid port or host is an error naming it") {
  for (const char* bad : {"host", "host:", ":80", "host:0", "host:70000", "host:8x", "::1:80"}) {
    auto e = parse_endpoint(bad);
    CHECK_FALSE(e.ok());
    if (!e.ok())
      CHECK(e.err().message.find(std::string("'") + bad + "'") != std::string::npos);
  }
}

TEST_CASE("seed lists skip blanks and duplicates and fail on a bad entry") {
  auto seeds = parse_seeds({"a:1", "", "b:2", "a:1"});
  REQUIRE(seeds.ok());
  CHECK(seeds->size() == 2);
  CHECK_FALSE(parse_seeds({"a:1", "b"}).ok());
}

TEST_CASE("a member survives the trip through JSON") {
  member m = node("executor-1", {"executor"}, 19110, "gpu");
  auto back = member_from_json(to_json(m));
  REQUIRE(back.ok());
  CHECK(*back == m);
  CHECK(
    to_json(m).dump() ==
    R"({"name":"executor-1","roles":["executor"],"host":"127.0.0.1","port":19110,"executor_target":"gpu"})");
  auto list = members_from_json(json::parse(R"([{"name":"a"},{"roles":[]},5])"));
  REQUIRE(list.size() == 1);
  CHECK(list[0].name == "a");
}

TEST_CASE("the member table adds, replaces and removes by name") {
  member_table t;
  CHECK(t.upsert(node("engine-1", {"engine"}, 1)) == member_table::change::added);
  CHECK(t.upsert(node("engine-1", {"engine"}, 1)) == member_table::change::unchanged);
  CHECK(t.upsert(node("engine-1", {"engine"}, 2)) == member_table::change::replaced);
  CHECK(t.find("engine-1")->port == 2);
  t.upsert(node("api", {"api"}, 3));
  t.upsert(node("x-2", {"executor"}, 4, "gpu"));
  t.upsert(node("x-1", {"executor", "notifier"}, 5));
  CHECK(t.size() == 4);
  CHECK(t.with_role("executor") == std::vector<std::string>{"x-1", "x-2"});
  CHECK(t.executors_for("") == std::vector<std::string>{"x-1", "x-2"});
  CHECK(t.executors_for("gpu") == std::vector<std::string>{"x-2"});
  CHECK(t.executors_for("tpu").empty());
  CHECK(t.remove("x-2"));
  CHECK_FALSE(t.remove("x-2"));
  CHECK(t.executors_for("gpu").empty());
}

TEST_CASE("round robin goes to the next name and wraps, also when the last one left") {
  std::vector<std::string> names{"a", "c", "e"};
  CHECK(next_after(names, "") == "a");
  CHECK(next_after(names, "a") == "c");
  CHECK(next_after(names, "e") == "a");
  CHECK(next_after(names, "b") == "c"); // "b" is gone: the one after its place
  CHECK_FALSE(next_after({}, "a").has_value());
}

TEST_CASE("a node dials seeds and learnt addresses except itself, live members and dials in flight") {
  member_table live;
  live.upsert(node("engine-1", {"engine"}, 2));
  endpoint self{"127.0.0.1", 1};
  std::vector<endpoint> seeds{{"127.0.0.1", 1}, {"127.0.0.1", 2}, {"127.0.0.1", 3}};
  std::set<endpoint> learnt{{"127.0.0.1", 3}, {"127.0.0.1", 4}, {"127.0.0.1", 5}, {"127.0.0.1", 0}};
  std::set<endpoint> in_flight{{"127.0.0.1", 5}};
  auto out = dial_targets(seeds, learnt, self, live, in_flight);
  CHECK(out == std::vector<endpoint>{{"127.0.0.1", 3}, {"127.0.0.1", 4}});
}

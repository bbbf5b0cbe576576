#include "actors/cluster/roles.hpp"

#include <doctest/doctest.h>

using namespace mistral::cluster;

TEST_CASE("all selects every role") {
  auto set = parse_roles("all");
  REQUIRE(set.ok());
  CHECK(set->names() == std::vector<std::string>{"api", "engine", "executor", "notifier", "event-engine"});
}

TEST_CASE("a comma list selects exactly the named roles") {
  auto set = parse_roles("api, executor");
  REQUIRE(set.ok());
  CHECK(set->api);
  CHECK(set->executor);
  CHECK_FALSE(set->engine);
  CHECK(set->names() == std::vector<std::string>{"api", "executor"});
}

TEST_CASE("an unknown role is an error that lists the valid names") {
  auto set = parse_roles("api,scheduler");
  REQUIRE_FALSE(set.ok());
  CHECK(set.err().message.find("'scheduler'") != std::string::npos);
  CHECK(set.err().message.find("api, engine, executor, notifier, event-engine") != std::string::npos);
  CHECK_FALSE(parse_roles("").ok());
  CHECK_FALSE(parse_roles("api,").ok());
}

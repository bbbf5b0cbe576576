#include "actors/cluster/settings.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::cluster;

TEST_CASE("without a listen port or seeds a node runs alone") {
  auto cfg = config::load_text("[DEFAULT]\n");
  REQUIRE(cfg.ok());
  auto s = read_settings(*cfg, "box");
  REQUIRE(s.ok());
  CHECK_FALSE(s->enabled);
  CHECK(s->node_name == "box");
}

TEST_CASE("a listen port or seed nodes turn cluster mode on") {
  auto cfg = config::load_text("[cluster]\nnode_name = engine-1\nlisten_port = 19101\n"
                               "seed_nodes = 127.0.0.1:19100, 127.0.0.1:19102\n[executor]\nhost = gpu\n");
  REQUIRE(cfg.ok());
  auto s = read_settings(*cfg, "box");
  REQUIRE(s.ok());
  CHECK(s->enabled);
  CHECK(s->node_name == "engine-1");
  CHECK(s->listen_port == 19101);
  REQUIRE(s->seeds.size() == 2);
  CHECK(s->seeds[1].port == 19102);
  role_set roles;
  roles.executor = true;
  auto m = s->self_member(roles);
  CHECK(m.executor_target == "gpu");
  CHECK(m.host == "127.0.0.1");
  CHECK(m.roles == std::vector<std::string>{"executor"});
  roles.executor = false;
  roles.engine = true;
  CHECK(s->self_member(roles).executor_target.empty());

  auto seeds_only = config::load_text("[cluster]\nseed_nodes = 10.0.0.1:7000\n");
  REQUIRE(seeds_only.ok());
  CHECK(read_settings(*seeds_only, "box")->enabled);
}

TEST_CASE("a malformed seed is a configuration error") {
  auto cfg = config::load_text("[cluster]\nseed_nodes = nohostport\n");
  REQUIRE(cfg.ok());
  auto s = read_settings(*cfg, "box");
  REQUIRE_FALSE(s.ok());
  CHECK(s.err().message.find("seed_nodes") != std::string::npos);
}

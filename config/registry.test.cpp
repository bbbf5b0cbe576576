#include "config/registry.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace mistral::config;

namespace {

const option& opt(const std::string& group, const std::string& name) {
  const auto* o = registry::instance().find(group, name);
  REQUIRE_MESSAGE(o != nullptr, "[" << group << "] " << name);
  return *o;
}

} // namespace

TEST_CASE("the registry has every group of Mistral's configuration") {
  const auto groups = registry::instance().groups();
  const std::set<std::string> have(groups.begin(), groups.end());
  for (const char* g : {"DEFAULT",
                        "api",
                        "engine",
                        "executor",
                        "event_engine",
                        "notifier",
                        "scheduler",
                        "cron_trigger",
                        "execution_expiration_policy",
                        "action_heartbeat",
                        "pecan",
                        "coordination",
                        "yaql",
                        "legacy_action_provider",
                        "profiler",
                        "keycloak_oidc",
                        "database",
                        "keystone_authtoken",
                        "oslo_policy",
                        "oslo_messaging_rabbit",
                        "oslo_messaging_notifications",
                        "cors",
                        "cluster"})
    CHECK_MESSAGE(have.count(g), g);
  CHECK(groups.front() == "DEFAULT");
  CHECK(std::is_sorted(groups.begin() + 1, groups.end()));
}

TEST_CASE("mistral's own options carry their types, bounds, choices and defaults") {
  CHECK(opt("api", "port").kind == opt_kind::port);
  CHECK(opt("api", "port").default_value == "8989");
  CHECK(opt("api", "port").max == "65535");
  CHECK(opt("api", "api_workers").kind == opt_kind::integer);
  CHECK_FALSE(opt("api", "api_workers").default_value.has_value());
  CHECK(opt("api", "validation_mode").choices.size() == 3);
  CHECK(opt("DEFAULT", "server").kind == opt_kind::list);
  CHECK(opt("DEFAULT", "js_implementation").default_value == "pyv8");
  CHECK(opt("DEFAULT", "scheduler_type").default_value == "legacy");
  CHECK(opt("engine", "execution_field_size_limit_kb").default_value == "1024");
  CHECK(opt("engine", "execution_integrity_check_batch_size").min == "1");
  CHECK(opt("scheduler", "fixed_delay").kind == opt_kind::floating);
  CHECK(opt("scheduler", "fixed_delay").min == "0.1");
  CHECK(opt("yaql", "limit_iterators").default_value == "-1");
  CHECK(opt("yaql", "limit_iterators").min == "-1");
  CHECK(opt("action_heartbeat", "max_missed_heartbeats").default_value == "15");
  CHECK(opt("coordination", "heartbeat_interval").default_value == "5.0");
  CHECK(opt("legacy_action_provider", "only_builtin_actions").default_value == "false");
  CHECK(opt("notifier", "notify").bounds);
  CHECK(opt("oslo_policy", "policy_file").default_value == "policy.yaml");
  CHECK_FALSE(opt("api", "port").help.empty());
}

TEST_CASE("this server's defaults differ from Mistral's where documented") {
  const auto& up = registry::upstream();
  auto differs = [&](const char* g, const char* n) {
    const auto* ours = registry::instance().find(g, n);
    const auto* theirs = up.find(g, n);
    REQUIRE(ours);
    REQUIRE(theirs);
    CHECK_FALSE(ours->note.empty());
    return ours->default_value != theirs->default_value;
  };
  CHECK(differs("api", "host"));
  CHECK(differs("database", "connection"));
  CHECK(differs("pecan", "auth_enable"));
  CHECK(differs("execution_expiration_policy", "evaluation_interval"));
  CHECK(differs("execution_expiration_policy", "older_than"));
  CHECK(up.find("api", "host")->default_value == "0.0.0.0");
  CHECK(up.find("cluster", "node_name") == nullptr);
}

TEST_CASE("the options this server acts on are marked") {
  CHECK(opt("api", "port").acted_on);
  CHECK(opt("database", "connection").acted_on);
  CHECK(opt("execution_expiration_policy", "batch_size").acted_on);
  CHECK(opt("DEFAULT", "debug").acted_on);
  CHECK(opt("cluster", "seed_nodes").acted_on);
  CHECK_FALSE(opt("engine", "topic").acted_on);
  CHECK_FALSE(opt("DEFAULT", "transport_url").acted_on);
  CHECK_FALSE(opt("keystone_authtoken", "www_authenticate_uri").acted_on);
}

TEST_CASE("our own options are registered with their defaults") {
  CHECK(opt("database", "sqlite_synchronous").default_value == "FULL");
  CHECK(opt("database", "group_commit_window_ms").default_value == "2");
  CHECK(opt("cluster", "listen_port").kind == opt_kind::port);
  CHECK(opt("cluster", "seed_nodes").kind == opt_kind::list);
  CHECK_FALSE(opt("cluster", "node_name").default_value.has_value());
}

TEST_CASE("find accepts dashes and deprecated names resolve to their option") {
  CHECK(registry::instance().find("DEFAULT", "use-debugger") == &opt("DEFAULT", "use_debugger"));
  CHECK(registry::instance().find_deprecated("DEFAULT", "sql_connection") == &opt("database", "connection"));
  CHECK(registry::instance().find_deprecated("database", "sql_connection") == &opt("database", "connection"));
  CHECK(registry::instance().find("api", "nope") == nullptr);
}

TEST_CASE("every default is valid for its own option") {
  for (const auto& o : registry::instance().options()) {
    if (!o.default_value || o.kind == opt_kind::multi_string)
      continue;
    CHECK_MESSAGE(!check_value(o, *o.default_value).has_value(), "[" << o.group << "] " << o.name);
  }
}

TEST_CASE("booleans parse with oslo's spellings only") {
  CHECK(parse_bool("Yes") == true);
  CHECK(parse_bool("off") == false);
  CHECK_FALSE(parse_bool("2").has_value());
  CHECK_FALSE(parse_bool("").has_value());
}

TEST_CASE("group names normalise like oslo") {
  CHECK(normalize_group("DEFAULT") == "DEFAULT");
  CHECK(normalize_group("Api") == "api");
  CHECK(normalize_group("default") == "default");
}

#include "config/config.hpp"
#include "config/registry.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace mistral::config;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("the sample has a header and every group of section 6") {
  const auto sample = generate_sample();
  CHECK(sample.rfind("# mistral.conf", 0) == 0);
  for (const auto& g : registry::instance().groups())
    CHECK_MESSAGE(contains(sample, "\n[" + g + "]\n"), g);
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
                        "cors",
                        "cluster"})
    CHECK_MESSAGE(contains(sample, std::string("[") + g + "]\n"), g);
}

TEST_CASE("every option appears commented out with its default") {
  const auto sample = generate_sample();
  for (const auto& o : registry::instance().options())
    CHECK_MESSAGE(contains(sample, "\n#" + o.name + " ="), o.group << " " << o.name);
  CHECK(contains(sample, "\n#port = 8989\n"));
  CHECK(contains(sample, "\n#api_workers = <None>\n"));
  CHECK(contains(sample, "\n#host = 127.0.0.1\n"));
  CHECK(contains(sample, "\n#ignored_states =\n"));
}

TEST_CASE("the sample prints types, bounds and choices as oslo does") {
  const auto sample = generate_sample();
  CHECK(contains(
    sample,
    "# Mistral API server port (port value)\n# Minimum value: 0\n# Maximum value: 65535\n#port = 8989\n"));
  CHECK(contains(sample, "# Possible values:\n# enabled - <No description provided>\n"
                         "# mandatory - <No description provided>\n# disabled - <No description provided>\n"
                         "#validation_mode = mandatory\n"));
  CHECK(contains(sample, "\n[api]\n\n#\n# From mistral.config\n#\n\n"));
}

TEST_CASE("ignored options and changed defaults are documented in the sample") {
  const auto sample = generate_sample();
  CHECK(
    contains(sample, "# Mistral engine plugin (ignored by this server) (string value)\n#engine = default\n"));
  CHECK(contains(sample,
                 "# Mistral API server host. This server's default is 127.0.0.1 (Mistral's is\n# 0.0.0.0)"));
  CHECK(contains(sample, "no Keystone"));
  CHECK(contains(sample, "#auth_enable = false\n"));
  CHECK(contains(sample, "#evaluation_interval = 60\n"));
  CHECK(contains(sample, "#older_than = 10080\n"));
  CHECK(contains(sample, "#connection = sqlite:///data/mistral.db\n"));
  CHECK(contains(sample, "CAF cluster settings"));
}

TEST_CASE("the upstream sample keeps Mistral's defaults and has no notes") {
  sample_options up;
  up.upstream = true;
  const auto sample = generate_sample(up);
  CHECK(sample.rfind("[DEFAULT]\n", 0) == 0);
  CHECK(contains(sample, "# Mistral API server host (host address value)\n#host = 0.0.0.0\n"));
  CHECK_FALSE(contains(sample, "ignored by this server"));
  CHECK_FALSE(contains(sample, "[cluster]"));
}

TEST_CASE("the sample loads back without errors or warnings") {
  // Uncommenting every single-line default must give a valid file.
  std::string text;
  std::istringstream in(generate_sample());
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#", 0) == 0 && line.find(" = ") != std::string::npos && line.find(' ') > 1 &&
        line.find("<None>") == std::string::npos && line.rfind("# ", 0) != 0)
      line.erase(0, 1);
    text += line + "\n";
  }
  auto cfg = load_text(text, "sample");
  REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.err().message));
  for (const auto& w : cfg->warnings())
    CHECK_MESSAGE(contains(w, "ignored by this server"), w);
}

TEST_CASE("the sample itself loads as a config with no warnings") {
  auto cfg = load_text(generate_sample(), "sample");
  REQUIRE(cfg.ok());
  CHECK(cfg->warnings().empty());
  CHECK(cfg->get_int("api", "port") == 8989);
}

TEST_CASE("the committed deploy sample equals generate_sample") {
  const std::string path = std::string(MISTRAL_SOURCE_DIR) + "/deploy/mistral.conf.sample";
  const auto sample = generate_sample();
  // MISTRAL_WRITE_SAMPLE=1 ctest -R config refreshes the committed file.
  if (const char* w = std::getenv("MISTRAL_WRITE_SAMPLE"); w && std::string(w) == "1")
    std::ofstream(path, std::ios::binary) << sample;
  CHECK_MESSAGE(read_file(path) == sample, "regenerate with: MISTRAL_WRITE_SAMPLE=1 build/bin/test_config");
}

TEST_CASE("the committed deploy config loads without errors") {
  auto cfg = load({std::string(MISTRAL_SOURCE_DIR) + "/deploy/mistral.conf"});
  REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.err().message));
  CHECK(cfg->get_string("api", "host") == "127.0.0.1");
  CHECK(cfg->get_int("api", "port") == 8989);
  CHECK(cfg->get_string("database", "connection").rfind("sqlite:///", 0) == 0);
  CHECK(cfg->warnings().empty());
}

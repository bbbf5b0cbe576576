#include "config/config.hpp"
#include "config/registry.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace mistral::config;

namespace {

/// A scratch directory removed at the end of a test.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    path = std::filesystem::temp_directory_path() / ("mistral-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = path / name;
    std::ofstream(p) << text;
    return p.string();
  }
};

config must_load(const std::string& text) {
  auto r = load_text(text, "/etc/m.conf");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  return std::move(r).value();
}

std::string load_error(const std::string& text) {
  auto r = load_text(text, "/etc/m.conf");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == mistral::errc::invalid_input);
  return r.err().message;
}

bool has_warning(const config& cfg, const std::string& part) {
  return std::any_of(cfg.warnings().begin(), cfg.warnings().end(),
                     [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

} // namespace

TEST_CASE("an empty configuration gives this server's defaults") {
  auto cfg = must_load("");
  CHECK(cfg.get_string("api", "host") == "127.0.0.1");
  CHECK(cfg.get_int("api", "port") == 8989);
  CHECK(cfg.get_string("database", "connection") == "sqlite:///data/mistral.db");
  CHECK_FALSE(cfg.get_bool("pecan", "auth_enable", true));
  CHECK(cfg.get_int("execution_expiration_policy", "evaluation_interval") == 60);
  CHECK(cfg.get_int("execution_expiration_policy", "older_than") == 10080);
  CHECK(cfg.get_int("database", "group_commit_window_ms") == 2);
  CHECK(cfg.get_list("DEFAULT", "server") == std::vector<std::string>{"all"});
  CHECK(cfg.get_string("api", "validation_mode") == "mandatory");
  CHECK(cfg.warnings().empty());
}

TEST_CASE("a None default is unset and the getters fall back") {
  auto cfg = must_load("");
  CHECK_FALSE(cfg.raw("api", "api_workers").has_value());
  CHECK(cfg.get_int("api", "api_workers", 7) == 7);
  CHECK(cfg.get_string("coordination", "backend_url", "none") == "none");
  CHECK_FALSE(cfg.raw("no_such_group", "x").has_value());
}

TEST_CASE("sections and key value pairs are read with and without spaces") {
  auto cfg = must_load("[DEFAULT]\ndebug = True\n\n[api]\nport=9000\nhost =  10.0.0.1  \n");
  CHECK(cfg.get_bool("DEFAULT", "debug"));
  CHECK(cfg.get_int("api", "port") == 9000);
  CHECK(cfg.get_string("api", "host") == "10.0.0.1");
  CHECK(cfg.is_set("api", "port"));
  CHECK_FALSE(cfg.is_set("api", "api_workers"));
}

TEST_CASE("an empty value is the empty string") {
  auto cfg = must_load("[keycloak_oidc]\nauth_url =\n");
  REQUIRE(cfg.raw("keycloak_oidc", "auth_url").has_value());
  CHECK(*cfg.raw("keycloak_oidc", "auth_url") == "");
}

TEST_CASE("an empty number is None as in oslo") {
  auto cfg = must_load("[execution_expiration_policy]\nevaluation_interval =\n");
  CHECK_FALSE(cfg.raw("execution_expiration_policy", "evaluation_interval").has_value());
  CHECK(cfg.get_int("execution_expiration_policy", "evaluation_interval", -1) == -1);
}

TEST_CASE("quotes around a value are removed") {
  auto cfg = must_load("[api]\nhost = \"0.0.0.0\"\n[engine]\ntopic = 'eng'\n");
  CHECK(cfg.get_string("api", "host") == "0.0.0.0");
  CHECK(cfg.get_string("engine", "topic") == "eng");
}

TEST_CASE("comments and blank lines are skipped") {
  auto cfg =
    must_load("# a comment\n; another\n\n[api]\n# port = 1\n;port = 2\n   # indented comment\nport = 3\n\n");
  CHECK(cfg.get_int("api", "port") == 3);
}

TEST_CASE("an indented line continues the previous value") {
  auto cfg = must_load("[keycloak_oidc]\nauth_url = first\n  second\n");
  CHECK(cfg.get_string("keycloak_oidc", "auth_url") == "first\nsecond");
}

TEST_CASE("a later assignment in the same file wins") {
  auto cfg = must_load("[api]\nport = 1000\nport = 2000\n");
  CHECK(cfg.get_int("api", "port") == 2000);
}

TEST_CASE("group names are lower-cased except DEFAULT") {
  auto cfg = must_load("[API]\nport = 1234\n");
  CHECK(cfg.get_int("api", "port") == 1234);
}

TEST_CASE("booleans accept oslo's spellings in any case") {
  for (const char* t : {"True", "true", "TRUE", "yes", "1", "on", "On"}) {
    auto cfg = must_load(std::string("[pecan]\nauth_enable = ") + t + "\n");
    CHECK_MESSAGE(cfg.get_bool("pecan", "auth_enable"), t);
  }
  for (const char* t : {"False", "false", "no", "0", "off", "NO"}) {
    auto cfg = must_load(std::string("[pecan]\nauth_enable = ") + t + "\n");
    CHECK_FALSE_MESSAGE(cfg.get_bool("pecan", "auth_enable", true), t);
  }
}

TEST_CASE("lists are split at commas and trimmed") {
  auto cfg = must_load(
    "[DEFAULT]\nserver = api, engine ,executor,\n[execution_expiration_policy]\nignored_states =\n");
  CHECK(cfg.get_list("DEFAULT", "server") == std::vector<std::string>{"api", "engine", "executor"});
  CHECK(cfg.get_list("execution_expiration_policy", "ignored_states").empty());
}

TEST_CASE("dict values are key value pairs") {
  CHECK(parse_dict("a:1, b : 2").value() == std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}});
  CHECK(parse_dict("").value().empty());
  CHECK_FALSE(parse_dict("a:1,b").has_value());
  option opt;
  opt.kind = opt_kind::dict;
  CHECK_FALSE(check_value(opt, "x:1,y:2").has_value());
  CHECK(check_value(opt, "x") == "invalid dict value 'x', expected key:value pairs separated by commas");
}

TEST_CASE("a bounded list keeps the commas inside its JSON items") {
  auto cfg = must_load(
    "[notifier]\nnotify = [{\"type\": \"webhook\", \"url\": \"http://x/a,b\"}, {\"type\": \"noop\"}]\n");
  auto items = cfg.get_list("notifier", "notify");
  REQUIRE(items.size() == 2);
  CHECK(items[0] == "{\"type\": \"webhook\", \"url\": \"http://x/a,b\"}");
  CHECK(items[1] == "{\"type\": \"noop\"}");
  CHECK(load_error("[notifier]\nnotify = {}\n") ==
        "/etc/m.conf:2: [notifier] notify: invalid list value '{}', it must be enclosed in [ ]");
}

TEST_CASE("a plain list keeps quotes like oslo") {
  CHECK(parse_list("'a', b") == std::vector<std::string>{"'a'", "b"});
}

TEST_CASE("a multi-valued option collects every assignment") {
  auto cfg = must_load("[oslo_messaging_notifications]\ndriver = log\ndriver = messaging\n");
  CHECK(cfg.get_list("oslo_messaging_notifications", "driver") ==
        std::vector<std::string>{"log", "messaging"});
}

TEST_CASE("floats parse and keep their bounds") {
  auto cfg = must_load("[scheduler]\nfixed_delay = 0.5\n");
  CHECK(cfg.get_float("scheduler", "fixed_delay") == doctest::Approx(0.5));
  CHECK(cfg.get_float("coordination", "heartbeat_interval") == doctest::Approx(5.0));
  CHECK(load_error("[scheduler]\nfixed_delay = 0.01\n") ==
        "/etc/m.conf:2: [scheduler] fixed_delay: value 0.01 is less than the minimum 0.1");
  CHECK(load_error("[scheduler]\nfixed_delay = soon\n") ==
        "/etc/m.conf:2: [scheduler] fixed_delay: invalid floating point value 'soon'");
}

TEST_CASE("an invalid integer names the file, line, section and key") {
  CHECK(load_error("[DEFAULT]\n\n[api]\nport = abc\n") ==
        "/etc/m.conf:4: [api] port: invalid port value 'abc'");
  CHECK(load_error("[engine]\nexecution_field_size_limit_kb = 1k\n") ==
        "/etc/m.conf:2: [engine] execution_field_size_limit_kb: invalid integer value '1k'");
}

TEST_CASE("an integer out of its bounds is an error") {
  CHECK(load_error("[api]\nport = 70000\n") ==
        "/etc/m.conf:2: [api] port: value 70000 is greater than the maximum 65535");
  CHECK(load_error("[cron_trigger]\nexecution_interval = 0\n") ==
        "/etc/m.conf:2: [cron_trigger] execution_interval: value 0 is less than the minimum 1");
}

TEST_CASE("an invalid boolean is an error") {
  CHECK(load_error("[pecan]\nauth_enable = maybe\n") ==
        "/etc/m.conf:2: [pecan] auth_enable: invalid boolean value 'maybe'");
}

TEST_CASE("a value outside the choices is an error listing them") {
  CHECK(load_error("[api]\nvalidation_mode = sometimes\n") ==
        "/etc/m.conf:2: [api] validation_mode: invalid value 'sometimes', must be one of: enabled, "
        "mandatory, disabled");
  CHECK(load_error("[executor]\ntype = far\n") ==
        "/etc/m.conf:2: [executor] type: invalid value 'far', must be one of: local, remote");
}

TEST_CASE("a line that is not a header, comment or assignment is an error") {
  CHECK(
    load_error("[api]\nport = 1\njust some words\n") ==
    "/etc/m.conf:3: [api]: expected a [section] header, a comment or 'key = value', got 'just some words'");
}

TEST_CASE("a key before any section is an error") {
  CHECK(load_error("# header\nport = 8989\n") ==
        "/etc/m.conf:2: port: option set before any [section] header");
}

TEST_CASE("an unterminated section header is an error") {
  CHECK(load_error("[api]\nport = 1\n[engine\n") ==
        "/etc/m.conf:3: section header is missing its closing ']': '[engine'");
  CHECK(load_error("[]\n") == "/etc/m.conf:1: empty section name");
}

TEST_CASE("an empty key and a stray continuation are errors") {
  CHECK(load_error("[api]\n= 3\n") == "/etc/m.conf:2: [api]: empty key in '= 3'");
  CHECK(load_error("[api]\n  port = 3\n") == "/etc/m.conf:2: [api]: unexpected continuation line 'port = 3'");
}

TEST_CASE("unknown options and groups are warnings not errors") {
  auto cfg = must_load("[api]\nno_such_option = 1\n[no_such_group]\na = 1\nb = 2\n");
  CHECK(has_warning(cfg, "/etc/m.conf:2: [api] no_such_option: unknown option, ignored"));
  CHECK(has_warning(cfg, "/etc/m.conf:3: [no_such_group]: unknown group, its options are ignored"));
  CHECK(cfg.warnings().size() == 2);
  CHECK(cfg.get_string("no_such_group", "b") == "2");
}

TEST_CASE("an option this server ignores is accepted with a warning") {
  auto cfg = must_load("[engine]\ntopic = eng\n");
  CHECK(cfg.get_string("engine", "topic") == "eng");
  CHECK(has_warning(cfg, "/etc/m.conf:2: [engine] topic: accepted but ignored by this server"));
}

TEST_CASE("a deprecated name sets the current option with a warning") {
  auto cfg = must_load("[DEFAULT]\nsql_connection = postgresql://u:p@db/mistral\n");
  CHECK(cfg.get_string("database", "connection") == "postgresql://u:p@db/mistral");
  CHECK(has_warning(cfg, "deprecated name, use [database] connection"));
}

TEST_CASE("a dashed option name means the underscored one") {
  auto cfg = must_load("[DEFAULT]\nuse-debugger = true\n");
  CHECK(cfg.get_bool("DEFAULT", "use_debugger"));
}

TEST_CASE("a later file wins over an earlier one") {
  temp_dir dir;
  auto a = dir.write("a.conf", "[api]\nport = 1111\nhost = 0.0.0.0\n[DEFAULT]\ndebug = true\n");
  auto b = dir.write("b.conf", "[api]\nport = 2222\n");
  auto r = load({a, b});
  REQUIRE(r.ok());
  CHECK(r->get_int("api", "port") == 2222);
  CHECK(r->get_string("api", "host") == "0.0.0.0");
  CHECK(r->get_bool("DEFAULT", "debug"));
  auto r2 = load({b, a});
  REQUIRE(r2.ok());
  CHECK(r2->get_int("api", "port") == 1111);
}

TEST_CASE("an error in a file names that file") {
  temp_dir dir;
  auto good = dir.write("good.conf", "[api]\nport = 1\n");
  auto bad = dir.write("bad.conf", "[api]\n\n\nport = x\n");
  auto r = load({good, bad});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message == bad + ":4: [api] port: invalid port value 'x'");
}

TEST_CASE("a missing config file is an error naming it") {
  auto r = load({"/nonexistent/mistral.conf"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("/nonexistent/mistral.conf") == 0);
  CHECK(r.err().message.find("cannot read") != std::string::npos);
}

TEST_CASE("a directory given as config file is an error naming it") {
  temp_dir dir;
  auto r = load({dir.path.string()});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message == dir.path.string() + ": cannot read config file: it is a directory");
}

TEST_CASE("no file at all gives the defaults") {
  auto r = load({});
  REQUIRE(r.ok());
  CHECK(r->get_int("api", "port") == 8989);
}

TEST_CASE("set overrides a value and set_checked validates it first") {
  config cfg;
  cfg.set("api", "port", "1234");
  CHECK(cfg.get_int("api", "port") == 1234);
  CHECK(cfg.set_checked("api", "port", "4321").ok());
  CHECK(cfg.get_int("api", "port") == 4321);
  auto bad = cfg.set_checked("api", "port", "many");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message == "[api] port: invalid port value 'many'");
  CHECK_FALSE(cfg.set_checked("api", "nope", "1").ok());
}

TEST_CASE("typed getters fall back when a set value does not parse") {
  config cfg;
  cfg.set("api", "port", "abc");
  cfg.set("pecan", "auth_enable", "perhaps");
  CHECK(cfg.get_int("api", "port", 5) == 5);
  CHECK(cfg.get_bool("pecan", "auth_enable", true));
}

TEST_CASE("sqlite_synchronous maps oslo.db's booleans to pragma levels") {
  CHECK(sqlite_synchronous(must_load("")) == "FULL");
  CHECK(sqlite_synchronous(must_load("[database]\nsqlite_synchronous = NORMAL\n")) == "NORMAL");
  CHECK(sqlite_synchronous(must_load("[database]\nsqlite_synchronous = false\n")) == "OFF");
  CHECK(sqlite_synchronous(must_load("[database]\nsqlite_synchronous = true\n")) == "FULL");
  CHECK(load_error("[database]\nsqlite_synchronous = sometimes\n")
          .find("[database] sqlite_synchronous: invalid value") != std::string::npos);
}

TEST_CASE("CRLF line endings are read like LF") {
  auto cfg = must_load("[api]\r\nport = 4444\r\n");
  CHECK(cfg.get_int("api", "port") == 4444);
}

TEST_CASE("values substitute other options like oslo") {
  auto cfg = must_load("[DEFAULT]\nlog_dir = /var/log\nlog_file = $log_dir/mistral.log\n"
                       "[keycloak_oidc]\nauth_url = https://${api.host}:${api.port}/auth\n"
                       "certfile = $$HOME/cert and \\$x\nkeyfile = $unknown_thing/k\n"
                       "cafile = ${keyfile}.ca\n");
  CHECK(cfg.get_string("DEFAULT", "log_file") == "/var/log/mistral.log");
  CHECK(*cfg.raw("DEFAULT", "log_file") == "$log_dir/mistral.log");
  CHECK(cfg.get_string("keycloak_oidc", "auth_url") == "https://127.0.0.1:8989/auth");
  CHECK(cfg.get_string("keycloak_oidc", "certfile") == "$HOME/cert and $x");
  CHECK(cfg.get_string("keycloak_oidc", "keyfile") == "$unknown_thing/k");
  CHECK(cfg.get_string("keycloak_oidc", "cafile") == "$unknown_thing/k.ca");
}

TEST_CASE("a substitution cycle stops instead of looping") {
  auto cfg = must_load("[keycloak_oidc]\ncertfile = $keyfile\nkeyfile = $certfile\n");
  CHECK(cfg.get_string("keycloak_oidc", "certfile").find('$') != std::string::npos);
}

#include "actors/notifier/delivery.hpp"
#include "actors/notifier/notifier_actor.hpp"
#include "actors/notifier/testing_receiver.hpp"
#include "actors/protocol.hpp"
#include "common/py_json.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <future>

using namespace mistral;
using mistral::notifier::testing::webhook_receiver;

namespace {

notifier::settings quick() {
  notifier::settings s;
  s.attempts = 3;
  s.retry_delay = 0.05;
  s.max_retry_delay = 0.2;
  s.timeout = 10;
  return s;
}

json event_data(const std::string& id, const std::string& event) {
  return json{{"id", id}, {"name", "wf"}, {"state", "RUNNING"}, {"event", event}};
}

actors::notify_msg message(const std::string& id, const std::string& event, const json& publishers) {
  actors::notify_msg m;
  m.execution_id = id;
  m.event = event;
  m.data_json = event_data(id, event).dump();
  m.publishers_json = publishers.dump();
  return m;
}

json hook(const webhook_receiver& r, json extra = json::object()) {
  json p = {{"type", "webhook"}, {"url", r.url()}};
  for (auto it = extra.begin(); it != extra.end(); ++it)
    p[it.key()] = it.value();
  return p;
}

/// An actor system whose actors are told to stop when the test ends, even
/// when an assertion ends it early (the system waits for them).
struct system_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> owned;
  system_fixture() {
    cfg.add_message_types<caf::id_block::mistral>();
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  ~system_fixture() {
    for (const auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
  caf::actor keep(caf::actor a) {
    owned.push_back(a);
    return a;
  }
};

} // namespace

TEST_CASE("each publisher of a notification gets its delivery, in order") {
  json data = event_data("wf-1", "WORKFLOW_LAUNCHED");
  json publishers =
    json::array({json{{"type", "webhook"}, {"url", "http://h/a"}, {"headers", {{"X-Token", "t"}}}},
                 json{{"type", "noop"}, {"event_types", {"WORKFLOW_LAUNCHED"}}}, json{{"url", "http://h/b"}},
                 json{{"type", "amqp"}}, json{{"type", "webhook"}}});
  auto ds = notifier::plan_deliveries(data, publishers, quick());
  REQUIRE(ds.size() == 5);
  CHECK(ds[0].how == notifier::delivery::kind::webhook);
  CHECK(ds[0].url == "http://h/a");
  CHECK(ds[0].http_input["method"] == "POST");
  CHECK(ds[0].http_input["url"] == "http://h/a");
  CHECK(ds[0].http_input["body"] == python_json_dumps(data));
  CHECK(ds[0].http_input["headers"] == json{{"X-Token", "t"}});
  CHECK(ds[0].http_input["allow_redirects"] == true);
  CHECK(ds[1].how == notifier::delivery::kind::noop);
  CHECK(ds[2].how == notifier::delivery::kind::invalid);
  CHECK(ds[2].problem == "Notification publisher type is not specified.");
  CHECK(ds[3].how == notifier::delivery::kind::invalid);
  CHECK(ds[4].how == notifier::delivery::kind::invalid);
}

TEST_CASE("a webhook delivery succeeds only on HTTP 200 or 201") {
  auto answer = [](int status) {
    return action::action_result::ok(json{{"status", status}, {"content", "x"}});
  };
  CHECK_FALSE(notifier::webhook_failure(answer(200)));
  CHECK_FALSE(notifier::webhook_failure(answer(201)));
  CHECK(notifier::webhook_failure(answer(202)) == std::optional<std::string>("HTTP 202: x"));
  CHECK(notifier::webhook_failure(action::action_result::failed(
          json{{"status", 500}, {"content", "down"}})) == std::optional<std::string>("HTTP 500: down"));
  CHECK(notifier::webhook_failure(action::action_result::failed(json("Connection refused"))) ==
        std::optional<std::string>("Connection refused"));
}

TEST_CASE("retries wait longer each time up to the maximum") {
  notifier::settings s;
  s.retry_delay = 1;
  s.max_retry_delay = 5;
  CHECK(notifier::retry_delay_before(s, 1) == 0);
  CHECK(notifier::retry_delay_before(s, 2) == 1);
  CHECK(notifier::retry_delay_before(s, 3) == 2);
  CHECK(notifier::retry_delay_before(s, 4) == 4);
  CHECK(notifier::retry_delay_before(s, 5) == 5);
}

TEST_CASE("[notifier] settings and publishers come from the configuration") {
  auto cfg = config::load_text("[notifier]\nnotify = [{\"type\": \"webhook\", \"url\": \"http://x/a,b\"}, "
                               "{\"type\": \"noop\"}]\nwebhook_attempts = 7\nwebhook_retry_delay = 0.5\n"
                               "webhook_timeout = 3\n");
  REQUIRE(cfg.ok());
  auto s = notifier::read_settings(*cfg);
  CHECK(s.attempts == 7);
  CHECK(s.retry_delay == 0.5);
  CHECK(s.max_retry_delay == 60);
  CHECK(s.timeout == 3);
  json configured = notifier::config_publishers(*cfg);
  CHECK(configured ==
        json::array({json{{"type", "webhook"}, {"url", "http://x/a,b"}}, json{{"type", "noop"}}}));

  json params = json{{"env", json::object()}};
  notifier::add_configured_publishers(params, configured);
  CHECK(params["notify"] == configured);
  json given = json{{"notify", json::array({json{{"type", "noop"}, {"event_types", {"TASK_FAILED"}}}})}};
  notifier::add_configured_publishers(given, configured);
  CHECK(given["notify"].size() == 3);
  CHECK(given["notify"][0]["event_types"] == json{"TASK_FAILED"});
  json untouched = json::object();
  notifier::add_configured_publishers(untouched, json::array());
  CHECK_FALSE(untouched.contains("notify"));
}

TEST_CASE("the notifier POSTs the data as JSON with the publisher's headers only") {
  webhook_receiver receiver;
  system_fixture f;
  auto n = f.keep(actors::spawn_notifier(*f.sys, quick()));
  caf::anon_send(n, message("wf-1", "WORKFLOW_LAUNCHED",
                            json::array({hook(receiver, {{"headers", {{"X-Token", "s3"}}}})})));
  REQUIRE(receiver.wait_for(1));
  auto r = receiver.requests().at(0);
  CHECK(r.method == "POST");
  CHECK(r.path == "/hook");
  CHECK(r.headers["x-token"] == "s3");
  // requests.post(data=str) sends no Content-Type; neither do we.
  CHECK(r.headers.count("content-type") == 0);
  CHECK(json::parse(r.body) == event_data("wf-1", "WORKFLOW_LAUNCHED"));
  CHECK(r.body == python_json_dumps(event_data("wf-1", "WORKFLOW_LAUNCHED")));
}

TEST_CASE("a receiver that fails the first attempts still gets the event") {
  webhook_receiver receiver([](int n, const auto&) { return n < 2 ? 500 : 200; });
  system_fixture f;
  auto n = f.keep(actors::spawn_notifier(*f.sys, quick()));
  caf::anon_send(n, message("wf-1", "WORKFLOW_SUCCEEDED", json::array({hook(receiver)})));
  REQUIRE(receiver.wait_for(1));
  CHECK(receiver.failed() == 2);
  CHECK(json::parse(receiver.requests().at(0).body)["event"] == "WORKFLOW_SUCCEEDED");
}

TEST_CASE("a delivery is dropped after the last attempt and the next events still go out in order") {
  webhook_receiver receiver(
    [](int, const auto& r) { return r.body.find("\"lost\"") != std::string::npos ? 503 : 200; });
  system_fixture f;
  auto n = f.keep(actors::spawn_notifier(*f.sys, quick())); // 3 attempts, all refused for "lost"
  json to = json::array({hook(receiver)});
  caf::anon_send(n, message("lost", "WORKFLOW_LAUNCHED", to));
  for (int i = 0; i < 20; ++i)
    caf::anon_send(n, message("wf-" + std::to_string(i), "WORKFLOW_LAUNCHED", to));
  REQUIRE(receiver.wait_for(20));
  auto got = receiver.requests();
  REQUIRE(receiver.wait_for_failed(3));
  CHECK(receiver.failed() == 3);
  REQUIRE(got.size() == 20);
  for (int i = 0; i < 20; ++i)
    CHECK(json::parse(got[i].body)["id"] == "wf-" + std::to_string(i));
}

TEST_CASE("a receiver that never answers does not hold up another receiver") {
  webhook_receiver down([](int, const auto&) { return 500; });
  webhook_receiver up;
  system_fixture f;
  auto s = quick();
  s.attempts = 100;
  auto n = f.keep(actors::spawn_notifier(*f.sys, s));
  for (int i = 0; i < 5; ++i)
    caf::anon_send(
      n, message("wf-" + std::to_string(i), "WORKFLOW_LAUNCHED", json::array({hook(down), hook(up)})));
  REQUIRE(up.wait_for(5));
  CHECK(up.requests().size() == 5);
}

namespace {

/// Stands in for a notifier: hands what it gets to a promise.
caf::behavior recorder(caf::event_based_actor*, std::shared_ptr<std::promise<std::string>> got) {
  return {[got](actors::notify_msg& m) { got->set_value(m.execution_id); }};
}

/// Stands in for the cluster directory: names `notifier` for the "notifier" role.
caf::behavior directory(caf::event_based_actor*, caf::actor notifier) {
  return {[notifier](actors::lookup_atom, const std::string& role, const std::string&) -> caf::actor {
    return role == "notifier" ? notifier : caf::actor{};
  }};
}

std::string wait(std::future<std::string>& f) {
  return f.wait_for(std::chrono::seconds(30)) == std::future_status::ready ? f.get() : "(nothing)";
}

} // namespace

TEST_CASE("without a notifier role the engine's notifications go to the node the directory names") {
  system_fixture f;
  auto remote_got = std::make_shared<std::promise<std::string>>();
  auto local_got = std::make_shared<std::promise<std::string>>();
  auto remote = f.keep(f.sys->spawn(recorder, remote_got));
  auto local = f.keep(f.sys->spawn(recorder, local_got));
  auto client = f.keep(actors::spawn_notifier_client(*f.sys, local, f.keep(f.sys->spawn(directory, remote))));
  caf::anon_send(client, message("wf-1", "WORKFLOW_LAUNCHED", json::array()));
  auto from_remote = remote_got->get_future();
  CHECK(wait(from_remote) == "wf-1");
  auto from_local = local_got->get_future();
  CHECK(from_local.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
}

TEST_CASE("without a notifier node or directory the local notifier publishes") {
  system_fixture f;
  for (bool with_directory : {false, true}) {
    auto local_got = std::make_shared<std::promise<std::string>>();
    auto local = f.keep(f.sys->spawn(recorder, local_got));
    caf::actor dir = with_directory ? f.keep(f.sys->spawn(directory, caf::actor{})) : caf::actor{};
    auto client = f.keep(actors::spawn_notifier_client(*f.sys, local, dir));
    caf::anon_send(client, message("wf-2", "TASK_LAUNCHED", json::array()));
    auto from_local = local_got->get_future();
    CHECK(wait(from_local) == "wf-2");
  }
}

#include "api/caf_engine_client.hpp"

#include "actors/protocol.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

using namespace mistral;
using namespace std::chrono_literals;

namespace {

/// Replies collected from the engine client's callbacks (on CAF threads).
struct replies {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::vector<result<std::string>>> by_request;
  std::size_t count = 0;

  api::engine_client::reply callback(const std::string& request) {
    return [this, request](result<std::string> r) {
      std::lock_guard lock(mutex);
      by_request[request].push_back(std::move(r));
      ++count;
      changed.notify_all();
    };
  }

  bool wait_for(std::size_t n, std::chrono::seconds limit = 60s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return count >= n; });
  }
};

actors::start_execution start_of(const std::string& id) {
  actors::start_execution s;
  s.execution_id = id;
  return s;
}

/// Holds the promises of its requests; answers them, last first, once it
/// holds `batch` of them. `release_atom`-like: a control_msg with what=forget
/// answers everything held at once.
struct holding_state {
  std::vector<std::pair<std::string, caf::typed_response_promise<std::string>>> held;
};

caf::behavior holding_engine(caf::stateful_actor<holding_state>* self, std::size_t batch) {
  auto release = [self] {
    auto held = std::move(self->state.held);
    self->state.held.clear();
    for (auto it = held.rbegin(); it != held.rend(); ++it)
      it->second.deliver(json{{"id", it->first}}.dump());
  };
  return {
    [self, batch, release](actors::start_atom, actors::start_execution& req) -> caf::result<std::string> {
      auto rp = self->make_response_promise<std::string>();
      self->state.held.emplace_back(req.execution_id, rp);
      if (self->state.held.size() >= batch)
        release();
      return rp;
    },
    [self, release](actors::control_msg& m) -> caf::result<std::string> {
      if (m.what == actors::control_msg::forget)
        release();
      return json{{"id", m.execution_id}, {"control", m.what}}.dump();
    },
  };
}

struct system_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> owned;
  system_fixture() {
    cfg.add_message_types<caf::id_block::mistral>();
    cfg.set("scheduler.max-threads", 2);
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

TEST_CASE("the engine client matches many concurrent answers, given in any order, to their calls") {
  system_fixture f;
  constexpr std::size_t threads = 4;
  constexpr std::size_t per_thread = 500;
  auto engine = f.keep(f.sys->spawn(holding_engine, threads * per_thread));
  auto client = api::make_caf_engine_client(*f.sys, engine);
  replies got;
  std::vector<std::thread> callers;
  for (std::size_t t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      for (std::size_t i = 0; i < per_thread; ++i) {
        auto id = "ex-" + std::to_string(t) + "-" + std::to_string(i);
        client->start(start_of(id), got.callback(id));
      }
    });
  for (auto& c : callers)
    c.join();
  REQUIRE(got.wait_for(threads * per_thread));
  std::lock_guard lock(got.mutex);
  CHECK(got.by_request.size() == threads * per_thread);
  for (const auto& [id, rs] : got.by_request) {
    REQUIRE(rs.size() == 1);
    REQUIRE(rs[0].ok());
    CHECK(json::parse(*rs[0])["id"] == id);
  }
}

TEST_CASE("an engine that never answers gets the caller CAF's timeout error after the deadline, once") {
  system_fixture f;
  auto engine = f.keep(f.sys->spawn(holding_engine, std::size_t{1000000}));
  auto client = api::make_caf_engine_client(*f.sys, engine, 300ms);
  replies got;
  auto sent = std::chrono::steady_clock::now();
  client->start(start_of("a"), got.callback("a"));
  client->start(start_of("b"), got.callback("b"));
  REQUIRE(got.wait_for(2));
  CHECK(std::chrono::steady_clock::now() - sent >= 300ms);
  {
    std::lock_guard lock(got.mutex);
    for (const char* id : {"a", "b"}) {
      REQUIRE(got.by_request[id].size() == 1);
      REQUIRE_FALSE(got.by_request[id][0].ok());
      CHECK(got.by_request[id][0].err().code == errc::internal);
      CHECK(got.by_request[id][0].err().message == f.sys->render(caf::make_error(caf::sec::request_timeout)));
    }
  }
  // The engine answers late (the forget releases "a" and "b" first); the
  // callers already had their error and are not called again.
  actors::control_msg forget;
  forget.execution_id = "c";
  forget.what = actors::control_msg::forget;
  client->control(forget, got.callback("c"));
  REQUIRE(got.wait_for(3));
  std::lock_guard lock(got.mutex);
  CHECK(got.by_request["a"].size() == 1);
  CHECK(got.by_request["b"].size() == 1);
  REQUIRE(got.by_request["c"].size() == 1);
  REQUIRE(got.by_request["c"][0].ok());
  CHECK(json::parse(*got.by_request["c"][0])["id"] == "c");
}

TEST_CASE("a call to an engine that is gone fails at once with CAF's error text") {
  system_fixture f;
  auto engine = f.sys->spawn(holding_engine, std::size_t{1});
  {
    caf::scoped_actor self{*f.sys};
    self->monitor(engine);
    self->send_exit(engine, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }
  auto client = api::make_caf_engine_client(*f.sys, engine);
  replies got;
  client->start(start_of("x"), got.callback("x"));
  REQUIRE(got.wait_for(1, 30s));
  std::lock_guard lock(got.mutex);
  REQUIRE_FALSE(got.by_request["x"][0].ok());
  CHECK(got.by_request["x"][0].err().message ==
        f.sys->render(caf::make_error(caf::sec::request_receiver_down)));
}

TEST_CASE("an engine's error with a text reaches the caller as that text") {
  system_fixture f;
  auto engine = f.keep(f.sys->spawn([](caf::event_based_actor*) -> caf::behavior {
    return {
      [](actors::start_atom, actors::start_execution&) -> caf::result<std::string> {
        return caf::make_error(caf::sec::runtime_error, "the engine cannot reach the store");
      },
    };
  }));
  auto client = api::make_caf_engine_client(*f.sys, engine);
  replies got;
  client->start(start_of("x"), got.callback("x"));
  REQUIRE(got.wait_for(1));
  std::lock_guard lock(got.mutex);
  REQUIRE_FALSE(got.by_request["x"][0].ok());
  CHECK(got.by_request["x"][0].err().message == "the engine cannot reach the store");
}

TEST_CASE(
  "when the engine terminates, the calls waiting on it and later ones get CAF's receiver-down error") {
  system_fixture f;
  auto engine = f.sys->spawn(holding_engine, std::size_t{1000000});
  auto client = api::make_caf_engine_client(*f.sys, engine);
  replies got;
  client->start(start_of("held"), got.callback("held"));
  // A control answered at once shows the engine holds "held" by now.
  actors::control_msg pause;
  pause.execution_id = "probe";
  client->control(pause, got.callback("probe"));
  REQUIRE(got.wait_for(1));
  caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
  REQUIRE(got.wait_for(2));
  client->start(start_of("later"), got.callback("later"));
  REQUIRE(got.wait_for(3));
  auto gone = f.sys->render(caf::make_error(caf::sec::request_receiver_down));
  std::lock_guard lock(got.mutex);
  REQUIRE(got.by_request["probe"].size() == 1);
  CHECK(got.by_request["probe"][0].ok());
  for (const char* id : {"held", "later"}) {
    REQUIRE(got.by_request[id].size() == 1);
    REQUIRE_FALSE(got.by_request[id][0].ok());
    CHECK(got.by_request[id][0].err().message == gone);
  }
}

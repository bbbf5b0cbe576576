// Two engines over one store (SQLite or PostgreSQL, MISTRAL_TEST_BACKEND) in
// one process: an engine that stops abruptly has its executions taken over
// by the other, which ends them as they end without a fault; a restarted
// engine of the same name takes its own executions over at once; messages
// that reach an engine that does not own their execution are forwarded to
// the owner through the cluster directory (a test double here).

#include "test/api_harness.hpp"

#include "actors/action/executor_actor.hpp"
#include "actors/engine/engine_actor.hpp"
#include "actors/engine/lease.hpp"
#include "actors/protocol.hpp"
#include "api/api_service.hpp"
#include "api/caf_engine_client.hpp"
#include "persistence/execution_tables.hpp"
#include "persistence/lease_tables.hpp"
#include "persistence/test_database.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

using namespace mistral;
using namespace std::chrono_literals;

namespace {

constexpr const char* workflows = R"(---
version: '2.0'
lease_sleep:
  input: [n]
  tasks:
    nap:
      action: std.sleep seconds=1
      safe-rerun: true
      on-success: [after]
    after:
      action: std.echo output=<% $.n * 2 %>
      publish:
        r: <% task().result %>
  output:
    r: <% $.r %>
lease_timer:
  input: [n]
  tasks:
    later:
      wait-before: 2
      action: std.echo output=<% $.n + 1 %>
      publish:
        r: <% task().result %>
  output:
    r: <% $.r %>
lease_slow:
  input: [n]
  tasks:
    later:
      wait-before: 5
      action: std.echo output=<% $.n + 5 %>
      publish:
        r: <% task().result %>
  output:
    r: <% $.r %>
lease_child:
  input: [n]
  tasks:
    nap:
      action: std.sleep seconds=1
      safe-rerun: true
      on-success: [double]
    double:
      action: std.echo output=<% $.n * 3 %>
      publish:
        d: <% task().result %>
  output:
    d: <% $.d %>
lease_parent:
  input: [n]
  tasks:
    call:
      workflow: lease_child n=<% $.n %>
      publish:
        d: <% task().result.d %>
      on-success: [last]
    last:
      action: std.echo output=<% $.d + 1 %>
      publish:
        r: <% task().result %>
  output:
    r: <% $.r %>
lease_unsafe:
  tasks:
    nap:
      action: std.sleep seconds=2
)";

/// The output each workflow ends with, without any fault.
json expected_output(const std::string& wf, int n) {
  if (wf == "lease_sleep")
    return {{"r", n * 2}};
  if (wf == "lease_timer")
    return {{"r", n + 1}};
  if (wf == "lease_slow")
    return {{"r", n + 5}};
  return {{"r", n * 3 + 1}};
}

/// The cluster directory's lookup, as actors/cluster answers it.
struct directory_double {
  std::mutex mutex;
  std::map<std::string, caf::actor> engines;

  caf::actor lookup(const std::string& node) {
    std::lock_guard lock(mutex);
    auto it = engines.find(node);
    return it == engines.end() ? caf::actor() : it->second;
  }
  void set(const std::string& node, caf::actor a) {
    std::lock_guard lock(mutex);
    if (a)
      engines[node] = std::move(a);
    else
      engines.erase(node);
  }
};

caf::behavior directory_actor(caf::event_based_actor*, std::shared_ptr<directory_double> d) {
  return {
    [d](actors::lookup_atom, const std::string& role, const std::string& node) -> caf::actor {
      return role == "engine" ? d->lookup(node) : caf::actor();
    },
  };
}

/// A store whose engine_nodes writes fail while `cut` is set: the engine
/// using it can neither write its heartbeat nor register again.
class heartbeat_cut_database final : public persistence::database {
public:
  explicit heartbeat_cut_database(std::shared_ptr<persistence::database> inner) : inner_(std::move(inner)) {}
  std::atomic<bool> cut{false};

  persistence::backend kind() const override { return inner_->kind(); }
  result<std::vector<persistence::migration_info>> migrate(int target) override {
    return inner_->migrate(target);
  }
  result<std::vector<persistence::migration_info>> applied() override { return inner_->applied(); }
  status stamp(int version) override { return inner_->stamp(version); }
  status insert(const persistence::table_def& t, const persistence::record& row) override {
    if (cut && &t == &persistence::engine_nodes_table())
      return error(errc::unavailable, "connection lost (test)");
    return inner_->insert(t, row);
  }
  result<std::int64_t> update(const persistence::table_def& t, const std::vector<persistence::filter>& where,
                              const persistence::record& changes) override {
    if (cut && &t == &persistence::engine_nodes_table())
      return error(errc::unavailable, "connection lost (test)");
    return inner_->update(t, where, changes);
  }
  result<std::int64_t> remove(const persistence::table_def& t,
                              const std::vector<persistence::filter>& where) override {
    return inner_->remove(t, where);
  }
  status write_batch(const std::vector<persistence::write_op>& ops) override {
    return inner_->write_batch(ops);
  }
  std::vector<status> write_groups(const std::vector<std::vector<persistence::write_op>>& groups) override {
    return inner_->write_groups(groups);
  }
  void write_batch_async(std::vector<persistence::write_op> ops, commit_callback done) override {
    inner_->write_batch_async(std::move(ops), std::move(done));
  }
  void flush() override { inner_->flush(); }
  result<std::vector<persistence::record>> list(const persistence::table_def& t,
                                                const persistence::list_query& q) override {
    return inner_->list(t, q);
  }

private:
  std::shared_ptr<persistence::database> inner_;
};

struct caf_config : caf::actor_system_config {
  caf_config() {
    add_message_types<caf::id_block::mistral>();
    set("scheduler.max-threads", 4);
  }
};

/// One engine of the cluster, with an API in front of it.
struct engine_node {
  std::string name;
  caf::actor engine;
  std::shared_ptr<api::api_context> ctx;
  api::router routes;

  api::http_response call(const std::string& method, const std::string& path, const std::string& body = "",
                          const std::string& type = "application/json") {
    return test::dispatch_and_wait(routes, test::make_request(method, path, body, type));
  }
};

struct cluster {
  persistence::testing::fresh_db store;
  caf_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<directory_double> dir = std::make_shared<directory_double>();
  caf::actor directory = sys.spawn(directory_actor, dir);
  caf::actor executor = actors::spawn_executor(sys);
  std::vector<std::shared_ptr<persistence::database>> dbs;
  std::map<std::string, std::unique_ptr<engine_node>> nodes;

  ~cluster() {
    for (auto& [name, n] : nodes)
      caf::anon_send_exit(n->engine, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(directory, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(executor, caf::exit_reason::user_shutdown);
    nodes.clear();
    sys.await_all_actors_done();
    for (auto& db : dbs)
      db->flush();
  }

  /// Starts engine `name` (again, when it ran before) on its own
  /// group-committed handle of the shared store.
  engine_node& start(const std::string& name, std::shared_ptr<persistence::database> db = nullptr) {
    if (!db)
      db = persistence::with_group_commit(store.db, std::chrono::milliseconds(2));
    dbs.push_back(db);
    actors::engine_options opts;
    opts.node_name = name;
    opts.directory = directory;
    auto n = std::make_unique<engine_node>();
    n->name = name;
    n->engine = actors::spawn_engine(sys, db, executor, opts);
    dir->set(name, n->engine);
    n->ctx = std::make_shared<api::api_context>(api::api_context{db,
                                                                 std::make_shared<config::config>(),
                                                                 std::make_shared<system_clock>(),
                                                                 api::make_caf_engine_client(sys, n->engine),
                                                                 {"api", "engine"},
                                                                 {},
                                                                 {}});
    api::add_v2_routes(n->routes, n->ctx);
    auto& ref = *n;
    nodes[name] = std::move(n);
    return ref;
  }

  /// Stops `name` as a crash does: its actors end at once, nothing is
  /// cleaned up and its heartbeat stops; it leaves the directory.
  void crash(const std::string& name) {
    auto& n = *nodes.at(name);
    dir->set(name, caf::actor());
    caf::anon_send_exit(n.engine, caf::exit_reason::kill);
  }

  json execution(const std::string& id) {
    auto row = store.db->find_one(persistence::workflow_executions_table(),
                                  {persistence::filter{"id", persistence::filter_op::eq, {id}}});
    REQUIRE(row.ok());
    return row->has_value() ? **row : json();
  }

  std::string owner_of(const std::string& id) {
    auto lease = engine::read_lease(*store.db, id);
    REQUIRE(lease.ok());
    return lease->has_value() ? (**lease).owner_node : std::string();
  }

  /// Waits until `done` holds or `limit` passes; true when it held.
  template <class Pred>
  bool wait_until(std::chrono::steady_clock::duration limit, Pred done) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done())
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }

  bool terminal(const std::string& id) {
    std::string s = execution(id).value("state", "");
    return s == "SUCCESS" || s == "ERROR" || s == "CANCELLED";
  }
};

std::string start(engine_node& n, const std::string& wf, json input = json::object()) {
  auto r = n.call("POST", "/v2/executions", json{{"workflow_name", wf}, {"input", input}}.dump());
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return json::parse(r.body)["id"].get<std::string>();
}

struct started {
  std::string id, wf;
  int n = 0;
};

std::vector<started> start_mix(engine_node& n) {
  std::vector<started> out;
  int i = 0;
  for (const char* wf : {"lease_sleep", "lease_timer", "lease_parent"})
    for (int k = 0; k < 4; ++k, ++i)
      out.push_back({start(n, wf, {{"n", i}}), wf, i});
  return out;
}

void check_outcomes(cluster& c, const std::vector<started>& runs) {
  for (const auto& r : runs) {
    json row = c.execution(r.id);
    CHECK_MESSAGE(row.value("state", "") == "SUCCESS", (r.wf + " " + row.dump()));
    CHECK_MESSAGE(row["output"] == expected_output(r.wf, r.n), (r.wf + " " + row.dump()));
  }
}

} // namespace

TEST_CASE("the executions of an engine that stops abruptly are finished by the other one within 5 s") {
  cluster c;
  auto& a = c.start("engine-a");
  c.start("engine-b");
  REQUIRE(a.call("POST", "/v2/workflows", workflows, "text/plain").status == 201);
  auto runs = start_mix(a);
  auto unsafe = start(a, "lease_unsafe");
  for (const auto& r : runs)
    CHECK(c.owner_of(r.id) == "engine-a");
  // Let the actions get under way (the sleeps run for a second).
  REQUIRE(c.wait_until(10s, [&] {
    auto rows = c.store.db->list(persistence::action_executions_table(), {});
    return rows.ok() && rows->size() >= runs.size() + 1;
  }));
  auto epoch_a = engine::read_lease(*c.store.db, runs[0].id);
  REQUIRE(epoch_a.ok());
  auto crashed_at = std::chrono::steady_clock::now();
  c.crash("engine-a");

  std::vector<std::string> all{unsafe};
  for (const auto& r : runs)
    all.push_back(r.id);
  bool taken = c.wait_until(10s, [&] {
    for (const auto& id : all)
      if (!c.terminal(id) && c.owner_of(id) != "engine-b")
        return false;
    return true;
  });
  auto takeover = std::chrono::steady_clock::now() - crashed_at;
  CHECK(taken);
  MESSAGE("takeover after " << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count()
                            << " ms");
  CHECK(takeover < 5s);
  bool finished = c.wait_until(20s, [&] {
    for (const auto& id : all)
      if (!c.terminal(id))
        return false;
    return true;
  });
  MESSAGE("all finished after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - crashed_at)
                                     .count()
                                << " ms");
  REQUIRE(finished);
  check_outcomes(c, runs);
  // The action in flight that may not run twice fails, with the reason.
  json u = c.execution(unsafe);
  CHECK(u.value("state", "") == "ERROR");
  CHECK(u.value("state_info", "").find("not safe to re-run") != std::string::npos);
  // A write of the dead engine after the takeover is refused.
  auto late =
    c.store.db->write_batch({engine::fence_op(runs[0].id, {"engine-a", (**epoch_a).owner_epoch}, false)});
  REQUIRE_FALSE(late.ok());
  CHECK(engine::is_fenced(late.err()));
}

TEST_CASE("a restarted engine of the same name takes its own executions over at once") {
  cluster c;
  auto& a = c.start("engine-a");
  REQUIRE(a.call("POST", "/v2/workflows", workflows, "text/plain").status == 201);
  auto runs = start_mix(a);
  REQUIRE(c.wait_until(10s, [&] {
    auto rows = c.store.db->list(persistence::action_executions_table(), {});
    return rows.ok() && rows->size() >= runs.size();
  }));
  c.crash("engine-a");
  auto restarted_at = std::chrono::steady_clock::now();
  c.start("engine-a");
  REQUIRE(c.wait_until(20s, [&] {
    for (const auto& r : runs)
      if (!c.terminal(r.id))
        return false;
    return true;
  }));
  auto took = std::chrono::steady_clock::now() - restarted_at;
  MESSAGE("all finished " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                          << " ms after the restart");
  // The timers wait 2 s and the sleeps 1 s: no TTL (3 s) was waited for.
  CHECK(took < 3500ms);
  check_outcomes(c, runs);
}

TEST_CASE("a request for an execution another engine owns is forwarded to the owner") {
  cluster c;
  auto& a = c.start("engine-a");
  auto& b = c.start("engine-b");
  REQUIRE(a.call("POST", "/v2/workflows", workflows, "text/plain").status == 201);
  auto id = start(a, "lease_timer", {{"n", 41}});
  // Paused and resumed through engine B: the execution stays with A.
  auto paused = b.call("PUT", "/v2/executions/" + id, json{{"state", "PAUSED"}}.dump());
  REQUIRE_MESSAGE(paused.status == 200, paused.body);
  CHECK(json::parse(paused.body)["state"] == "PAUSED");
  CHECK(c.owner_of(id) == "engine-a");
  auto resumed = b.call("PUT", "/v2/executions/" + id, json{{"state", "RUNNING"}}.dump());
  REQUIRE_MESSAGE(resumed.status == 200, resumed.body);
  REQUIRE(c.wait_until(10s, [&] { return c.terminal(id); }));
  json row = c.execution(id);
  CHECK(row.value("state", "") == "SUCCESS");
  CHECK(row["output"] == json{{"r", 42}});
  CHECK(c.owner_of(id) == "engine-a");
}

TEST_CASE("two engines start executions side by side and each finishes its own") {
  cluster c;
  auto& a = c.start("engine-a");
  auto& b = c.start("engine-b");
  REQUIRE(a.call("POST", "/v2/workflows", workflows, "text/plain").status == 201);
  auto on_a = start_mix(a);
  auto on_b = start_mix(b);
  REQUIRE(c.wait_until(20s, [&] {
    for (const auto* runs : {&on_a, &on_b})
      for (const auto& r : *runs)
        if (!c.terminal(r.id))
          return false;
    return true;
  }));
  check_outcomes(c, on_a);
  check_outcomes(c, on_b);
  for (const auto& r : on_a)
    CHECK(c.owner_of(r.id) == "engine-a");
  for (const auto& r : on_b)
    CHECK(c.owner_of(r.id) == "engine-b");
}

TEST_CASE("an engine that cannot write its heartbeat stops its executions, which another engine finishes") {
  cluster c;
  auto flaky = std::make_shared<heartbeat_cut_database>(
    persistence::with_group_commit(c.store.db, std::chrono::milliseconds(2)));
  auto& a = c.start("engine-a", flaky);
  c.start("engine-b");
  REQUIRE(a.call("POST", "/v2/workflows", workflows, "text/plain").status == 201);
  auto runs = start_mix(a);
  for (int n = 0; n < 4; ++n)
    runs.push_back({start(a, "lease_slow", {{"n", n}}), "lease_slow", n});
  flaky->cut = true;
  auto cut_at = std::chrono::steady_clock::now();
  REQUIRE(c.wait_until(20s, [&] {
    for (const auto& r : runs)
      if (!c.terminal(r.id))
        return false;
    return true;
  }));
  MESSAGE("all finished " << std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - cut_at)
                               .count()
                          << " ms after the heartbeat was cut");
  check_outcomes(c, runs);
  for (const auto& r : runs)
    if (r.wf == "lease_slow") // still waiting when A lost its heartbeat
      CHECK(c.owner_of(r.id) == "engine-b");
  // Once the store answers again, A comes back as a new epoch.
  flaky->cut = false;
  CHECK(c.wait_until(10s, [&] {
    auto nodes = engine::read_nodes(*c.store.db);
    if (!nodes.ok())
      return false;
    for (const auto& n : *nodes)
      if (n.name == "engine-a" && n.epoch == 2)
        return true;
    return false;
  }));
}

#include "actors/cron/cron_store.hpp"

#include "persistence/definition_stores.hpp"
#include "persistence/trigger_tables.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <random>

using namespace mistral;

namespace {

struct temp_store {
  std::filesystem::path dir;
  std::shared_ptr<persistence::database> db;
  temp_store() {
    std::mt19937_64 rng{std::random_device{}()};
    dir = std::filesystem::temp_directory_path() / ("mistral-cron-" + std::to_string(rng()));
    auto info = persistence::parse_connection_url("sqlite:///" + (dir / "cron.db").string());
    REQUIRE(info.ok());
    auto opened = persistence::open_database(*info);
    REQUIRE(opened.ok());
    db = *opened;
    REQUIRE(db->migrate().ok());
  }
  ~temp_store() {
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

timestamp at(const std::string& text) {
  timestamp t = 0;
  REQUIRE(parse_time(text, t));
  return t;
}

persistence::record trigger_row(const std::string& id, json remaining) {
  return {{"id", id},
          {"name", "t-" + id},
          {"pattern", "* * * * *"},
          {"first_execution_time", nullptr},
          {"next_execution_time", at("2026-11-29 12:39:00")},
          {"workflow_name", "wf"},
          {"workflow_id", "wf-id"},
          {"workflow_input", {{"name", "cron"}}},
          {"workflow_params", {{"env", {{"a", 1}}}}},
          {"remaining_executions", remaining},
          {"scope", "private"},
          {"project_id", "<default-project>"},
          {"created_at", at("2026-11-29 12:00:00")},
          {"updated_at", nullptr}};
}

} // namespace

TEST_CASE("due triggers are read earliest first, two seconds ahead") {
  temp_store s;
  auto late = trigger_row("b", nullptr);
  late["next_execution_time"] = at("2026-11-29 12:45:00");
  REQUIRE(s.db->insert(persistence::cron_triggers_table(), late).ok());
  REQUIRE(s.db->insert(persistence::cron_triggers_table(), trigger_row("a", nullptr)).ok());
  auto due = cron::due_triggers(*s.db, at("2026-11-29 12:38:59"));
  REQUIRE(due.ok());
  REQUIRE(due->size() == 1);
  CHECK((*due)[0]["id"] == "a");
  CHECK(cron::due_triggers(*s.db, at("2026-11-29 12:44:59"))->size() == 2);
}

TEST_CASE("a slot read by two schedulers is claimed by exactly one of them") {
  temp_store s;
  REQUIRE(s.db->insert(persistence::cron_triggers_table(), trigger_row("a", 3)).ok());
  const timestamp now = at("2026-11-29 12:38:59");
  // Both processes read the same row before either writes.
  auto seen_by_first = (*cron::due_triggers(*s.db, now))[0];
  auto seen_by_second = (*cron::due_triggers(*s.db, now))[0];
  auto plan = cron::plan_claim(cron::slot_of(seen_by_first), now);
  REQUIRE(plan.ok());
  auto first = cron::claim_slot(*s.db, seen_by_first, *plan, now);
  auto second = cron::claim_slot(*s.db, seen_by_second, *plan, now);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*first);
  CHECK_FALSE(*second);
  auto row = s.db->find_one(persistence::cron_triggers_table(),
                            {persistence::filter{"id", persistence::filter_op::eq, {"a"}}});
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  CHECK((**row)["remaining_executions"] == 2);
  CHECK(format_time((**row)["next_execution_time"].get<timestamp>()) == "2026-11-29 12:40:00");
  CHECK((**row)["updated_at"] == now);
}

TEST_CASE("the last slot deletes the trigger, once") {
  temp_store s;
  REQUIRE(s.db->insert(persistence::cron_triggers_table(), trigger_row("a", 1)).ok());
  const timestamp now = at("2026-11-29 12:38:59");
  auto seen = (*cron::due_triggers(*s.db, now))[0];
  auto plan = cron::plan_claim(cron::slot_of(seen), now);
  REQUIRE(plan.ok());
  CHECK(plan->remove);
  CHECK(*cron::claim_slot(*s.db, seen, *plan, now));
  CHECK_FALSE(*cron::claim_slot(*s.db, seen, *plan, now));
  CHECK(cron::due_triggers(*s.db, now)->empty());
}

TEST_CASE("an unlimited trigger is claimed through its null count") {
  temp_store s;
  REQUIRE(s.db->insert(persistence::cron_triggers_table(), trigger_row("a", nullptr)).ok());
  const timestamp now = at("2026-11-29 12:38:59");
  auto seen = (*cron::due_triggers(*s.db, now))[0];
  auto plan = cron::plan_claim(cron::slot_of(seen), now);
  REQUIRE(plan.ok());
  CHECK(*cron::claim_slot(*s.db, seen, *plan, now));
  CHECK_FALSE(*cron::claim_slot(*s.db, seen, *plan, now));
}

TEST_CASE("a fired trigger asks for its workflow with its input, params and Mistral's description") {
  auto req = cron::fired_request(trigger_row("a", 2));
  CHECK(req.workflow_id == "wf-id");
  CHECK(req.input == json{{"name", "cron"}});
  CHECK(req.params == json{{"env", {{"a", 1}}}});
  CHECK(
    req.description ==
    "{\"description\": \"Workflow execution created by cron trigger '(a)'.\", \"triggered_by\": {\"type\": "
    "\"cron_trigger\", \"id\": \"a\", \"name\": \"t-a\"}}");
}

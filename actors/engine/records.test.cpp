#include "actors/engine/records.hpp"

#include "actors/workflow/machine.hpp"
#include "dsl/parser.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

#include <deque>

using namespace mistral;
using namespace mistral::engine;

namespace {

class counting_env final : public machine_env {
public:
  timestamp now() const override { return 1000 * ++clock_; }
  std::string new_id() override {
    // Ids that sort against creation order: the load must not order by id.
    return "id-" + std::to_string(1000000 - ++ids_);
  }
  std::optional<dsl::action_spec> find_adhoc_action(const std::string&, const std::string&) const override {
    return std::nullopt;
  }
  bool is_std_action(const std::string& name) const override { return name.rfind("std.", 0) == 0; }

private:
  mutable long clock_ = 0;
  int ids_ = 0;
};

} // namespace

TEST_CASE("a with-items task's executions come back from the store in creation order") {
  persistence::testing::fresh_db f;
  auto specs = dsl::validate_workflows("version: '2.0'\nwf:\n  tasks:\n    items:\n"
                                       "      with-items: i in <% range(30) %>\n      action: std.noop\n");
  REQUIRE(specs.ok());
  execution ex;
  ex.spec = std::make_shared<dsl::workflow_spec>(specs->workflows.front());
  ex.wf.id = "wf-1";
  ex.wf.workflow_name = "wf";
  counting_env env;
  // Start, then complete half of the items, committing every decision.
  std::deque<event> events{ev_start{}};
  int completed = 0;
  while (!events.empty()) {
    auto d = decide(ex, events.front(), env);
    events.pop_front();
    REQUIRE(f.db->write_batch(writes_for(ex, d, 0)).ok());
    for (auto& c : d.commands)
      if (auto* r = std::get_if<cmd_run_action>(&c); r && completed++ < 15)
        events.push_back(ev_action_done{r->action_id, action::action_result::ok(nullptr)});
  }
  auto loaded = load_execution(*f.db, "wf-1");
  REQUIRE(loaded.ok());
  REQUIRE(loaded->tasks.size() == 1);
  CHECK(loaded->tasks[0].executions == ex.tasks[0].executions);
  CHECK(loaded->tasks[0].executions.size() == 30);
}

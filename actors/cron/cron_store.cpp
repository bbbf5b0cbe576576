#include "actors/cron/cron_store.hpp"

#include "common/py_json.hpp"
#include "persistence/trigger_tables.hpp"

namespace mistral::cron {

using persistence::filter;
using persistence::filter_op;
using persistence::record;

result<std::vector<record>> due_triggers(persistence::database& db, timestamp now) {
  persistence::list_query q;
  q.filters.push_back(filter{"next_execution_time", filter_op::lt, {now + due_ahead}});
  q.sort.push_back({"next_execution_time", false});
  q.sort.push_back({"id", false});
  return db.list(persistence::cron_triggers_table(), q);
}

trigger_slot slot_of(const record& trigger) {
  trigger_slot s;
  s.pattern = trigger.value("pattern", std::string(never_pattern));
  s.next_execution_time = trigger.value("next_execution_time", timestamp{0});
  if (trigger.contains("remaining_executions") && trigger["remaining_executions"].is_number_integer())
    s.remaining_executions = trigger["remaining_executions"].get<std::int64_t>();
  return s;
}

result<bool> claim_slot(persistence::database& db, const record& trigger, const slot_claim& plan,
                        timestamp now) {
  const trigger_slot read = slot_of(trigger);
  std::vector<filter> still_unclaimed = {
    filter{"id", filter_op::eq, {trigger.value("id", "")}},
    filter{"next_execution_time", filter_op::eq, {read.next_execution_time}},
    filter{"remaining_executions",
           filter_op::eq,
           {read.remaining_executions ? json(*read.remaining_executions) : json(nullptr)}},
  };
  const auto& table = persistence::cron_triggers_table();
  result<std::int64_t> changed =
    plan.remove ? db.remove(table, still_unclaimed)
                : db.update(table, still_unclaimed,
                            {{"next_execution_time", plan.next_execution_time},
                             {"remaining_executions",
                              plan.remaining_executions ? json(*plan.remaining_executions) : json(nullptr)},
                             {"updated_at", now}});
  if (!changed.ok())
    return std::move(changed).err();
  return *changed == 1;
}

engine::start_request fired_request(const record& trigger) {
  const std::string id = trigger.value("id", "");
  const std::string name = trigger.value("name", "");
  json description = json::object();
  description["description"] = "Workflow execution created by cron trigger '(" + id + ")'.";
  description["triggered_by"] = json{{"type", "cron_trigger"}, {"id", id}, {"name", name}};
  engine::start_request req;
  req.workflow_id = trigger.value("workflow_id", "");
  req.workflow_name = trigger.value("workflow_name", "");
  req.input = trigger["workflow_input"].is_object() ? trigger["workflow_input"] : json::object();
  req.params = trigger["workflow_params"].is_object() ? trigger["workflow_params"] : json::object();
  req.description = python_json_dumps(description);
  return req;
}

} // namespace mistral::cron

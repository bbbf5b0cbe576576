#include "actors/action/executor_actor.hpp"

#include "actors/action/std_actions.hpp"
#include "actors/protocol.hpp"

namespace mistral::actors {

namespace {

action_result_msg to_message(const run_action_msg& req, const action::action_result& r) {
  action_result_msg out;
  out.execution_id = req.execution_id;
  out.action_id = req.action_id;
  switch (r.outcome) {
    case action::action_result::kind::success: out.kind = 0; break;
    case action::action_result::kind::error: out.kind = 1; break;
    case action::action_result::kind::cancelled: out.kind = 2; break;
  }
  out.data_json = r.data.dump();
  out.error_json = r.error.dump();
  return out;
}

// Runs one action on its own thread and reports to `reply_to`.
void run_detached(caf::actor_system& sys, run_action_msg req, caf::actor reply_to) {
  sys.spawn<caf::detached>([req = std::move(req), reply_to](caf::event_based_actor* self) {
    action::action_context ctx;
    ctx.workflow_execution_id = req.execution_id;
    ctx.task_execution_id = req.task_id;
    ctx.workflow_name = req.workflow_name;
    ctx.action_execution_id = req.action_id;
    json input = json::parse(req.input_json, nullptr, false);
    if (input.is_discarded())
      input = json::object();
    action::action_run run = action::run_std_action(req.action, input, ctx);
    if (!run.async)
      self->send(reply_to, to_message(req, run.result));
    self->quit();
  });
}

// Actions that return at once run in the executor itself: a thread per
// std.noop would cost more than the action.
bool runs_inline(const run_action_msg& req) {
  json input = json::parse(req.input_json, nullptr, false);
  return action::is_instant_action(req.action, input);
}

caf::behavior executor(caf::event_based_actor* self) {
  return {
    [self](run_action_msg& req) {
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      if (action::is_async_action(req.action) && req.action == "std.async_noop")
        return; // completed later through PUT /v2/action_executions/{id}
      if (runs_inline(req)) {
        action::action_context ctx;
        ctx.workflow_execution_id = req.execution_id;
        ctx.action_execution_id = req.action_id;
        json input = json::parse(req.input_json, nullptr, false);
        auto run = action::run_std_action(req.action, input.is_discarded() ? json::object() : input, ctx);
        if (!run.async)
          self->send(sender, to_message(req, run.result));
        return;
      }
      run_detached(self->system(), std::move(req), sender);
    },
  };
}

} // namespace

caf::actor spawn_executor(caf::actor_system& sys) {
  return sys.spawn(executor);
}

} // namespace mistral::actors

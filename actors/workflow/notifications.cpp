#include "actors/workflow/notifications.hpp"

namespace mistral::engine {

namespace {

json opt_text(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

// utils.datetime_to_str: a time, or None when the column is not set.
json time_text(timestamp t) {
  return t ? json(format_time(t)) : json(nullptr);
}

json time_text(const std::optional<timestamp>& t) {
  return t ? time_text(*t) : json(nullptr);
}

json event_value(const notification_event& e) {
  return e ? json(*e) : json(nullptr);
}

} // namespace

// _TASK_EVENT_MAP: the target state picks the event; only RUNNING looks at
// where the task came from.
notification_event task_event(std::optional<state> from, state to) {
  switch (to) {
    case state::running:
      if (from == state::idle || from == state::paused || from == state::waiting)
        return "TASK_RESUMED";
      if (from == state::error)
        return "TASK_RERUN";
      return "TASK_LAUNCHED";
    case state::success: return "TASK_SUCCEEDED";
    case state::error: return "TASK_FAILED";
    case state::cancelled: return "TASK_CANCELLED";
    case state::paused: return "TASK_PAUSED";
    default: return std::nullopt;
  }
}

// _WF_EVENT_MAP: RUNNING from IDLE is still WORKFLOW_LAUNCHED.
notification_event workflow_event(std::optional<state> from, state to) {
  switch (to) {
    case state::running:
      if (from == state::paused)
        return "WORKFLOW_RESUMED";
      if (from == state::error)
        return "WORKFLOW_RERUN";
      return "WORKFLOW_LAUNCHED";
    case state::success: return "WORKFLOW_SUCCEEDED";
    case state::error: return "WORKFLOW_FAILED";
    case state::cancelled: return "WORKFLOW_CANCELLED";
    case state::paused: return "WORKFLOW_PAUSED";
    default: return std::nullopt;
  }
}

bool has_publishers(const json& params) {
  if (!params.is_object())
    return false;
  auto it = params.find("notify");
  return it != params.end() && it->is_array() && !it->empty();
}

json publishers_for(const json& params, const notification_event& event) {
  json out = json::array();
  if (!has_publishers(params))
    return out;
  for (const auto& publisher : params["notify"]) {
    if (!publisher.is_object())
      continue;
    auto types = publisher.find("event_types");
    bool unfiltered = types == publisher.end() || types->is_null() || (types->is_array() && types->empty()) ||
                      (types->is_string() && types->get_ref<const std::string&>().empty()) ||
                      (types->is_boolean() && !types->get<bool>());
    bool listed = false;
    if (!unfiltered && event) {
      if (types->is_array()) {
        for (const auto& t : *types)
          listed = listed || (t.is_string() && t.get_ref<const std::string&>() == *event);
      } else if (types->is_string()) {
        // `event in "..."` on a string is a substring test in Python.
        listed = types->get_ref<const std::string&>().find(*event) != std::string::npos;
      } else if (types->is_object()) {
        listed = types->contains(*event);
      }
    }
    if (unfiltered || listed)
      out.push_back(publisher);
  }
  return out;
}

json workflow_notification(const workflow_execution& wf, const notification_event& event) {
  return json{{"id", wf.id},
              {"name", wf.workflow_name},
              {"workflow_name", wf.workflow_name},
              {"workflow_namespace", wf.workflow_namespace},
              {"workflow_id", wf.workflow_id},
              {"state", to_string(wf.st)},
              {"state_info", opt_text(wf.state_info)},
              {"project_id", "<default-project>"},
              {"task_execution_id", opt_text(wf.task_execution_id)},
              {"root_execution_id", opt_text(wf.root_execution_id)},
              {"created_at", time_text(wf.created_at)},
              {"updated_at", time_text(wf.updated_at)},
              {"event", event_value(event)}};
}

json task_notification(const workflow_execution& wf, const task_execution& t,
                       const notification_event& event) {
  return json{{"id", t.id},
              {"name", t.name},
              {"workflow_execution_id", wf.id},
              {"workflow_name", wf.workflow_name},
              {"workflow_namespace", wf.workflow_namespace},
              {"workflow_id", wf.workflow_id},
              {"state", to_string(t.st)},
              {"state_info", opt_text(t.state_info)},
              {"type", t.type},
              {"project_id", "<default-project>"},
              {"created_at", time_text(t.created_at)},
              {"updated_at", time_text(t.updated_at)},
              {"started_at", time_text(t.started_at)},
              {"finished_at", time_text(t.finished_at)},
              {"event", event_value(event)}};
}

} // namespace mistral::engine

#pragma once

// The data of one workflow execution as the engine core sees it: the
// workflow execution, its task executions and their action executions (or
// sub-workflow links). Plain data, mirrored by the store's rows.

#include "actors/workflow/states.hpp"
#include "common/clock.hpp"
#include "common/json.hpp"
#include "dsl/spec.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mistral::engine {

/// An action execution (or, for a workflow task, the link to a sub-workflow
/// execution: `is_workflow`, with `id` = the sub-workflow execution id).
struct action_execution {
  std::string id;
  std::string task_id;
  std::string name; ///< the action as the task names it (ad-hoc name, not its base)
  state st = state::running;
  std::optional<std::string> state_info;
  bool accepted = true;
  bool is_workflow = false;
  bool is_sync = true;
  json input = json::object();
  json output;   ///< null while running; {"result": ...} when completed
  int index = 0; ///< with-items index
  timestamp created_at = 0;
  timestamp updated_at = 0;
  /// Not stored: the row is in the store (or on its way in the commit being
  /// made), so later writes carry only the columns that can change.
  bool stored = false;
};

/// A task execution.
/// Where a task keeps the global variables it published (runtime_context).
inline constexpr const char* published_global_key = "published_global";

struct task_execution {
  std::string id;
  std::string name;
  std::string type = "ACTION"; ///< or "WORKFLOW"
  state st = state::idle;
  std::optional<std::string> state_info;
  json in_context = json::object();
  json published = json::object();
  json runtime_context = json::object();
  bool processed = false;
  bool error_handled = false;
  bool has_next_tasks = false;
  std::vector<std::pair<std::string, std::string>> next_tasks; ///< (task name, event)
  std::string unique_key;
  std::vector<std::string> executions; ///< action/sub-workflow execution ids, in creation order
  timestamp created_at = 0;
  timestamp updated_at = 0;
  std::optional<timestamp> started_at;
  std::optional<timestamp> finished_at;
  /// Not stored: the row is in the store (see action_execution::stored).
  bool stored = false;

  /// Not stored: with-items counts over `executions`, kept by the machine as
  /// actions start and complete, so a completion costs O(1) rather than a scan
  /// of every item (a 100,000-item task was quadratic). `valid` is false until
  /// counted and after anything but a start or a completion changed an action.
  struct items_tally {
    bool valid = false;
    std::size_t counted = 0;  ///< executions counted (all of them while valid)
    std::size_t accepted = 0; ///< accepted executions
    std::size_t done = 0;     ///< accepted and completed
    bool any_cancelled = false, any_error = false;
  };
  items_tally tally;

  /// Not stored: how far the starting of with-items items got, kept by the
  /// machine so that starting the next items costs what they cost, not a
  /// scan of every item (a big with-items starts in chunks, one per commit;
  /// see machine_env::take_items). Rebuilt from `executions` when not `valid`.
  struct items_cursor {
    bool valid = false;
    std::vector<bool> started;         ///< by item index: it has an accepted execution
    std::size_t started_count = 0;     ///< items started
    std::size_t next = 0;              ///< every item below is started
    std::size_t checked = 0;           ///< every item below is started or had its input evaluated
    std::size_t unstarted_checked = 0; ///< the items below `checked` not started yet
    /// The with-items lists ({var, list}) as evaluated when the task started.
    std::shared_ptr<const std::vector<std::pair<std::string, json>>> values;
  };
  items_cursor cursor;
};

/// A workflow execution.
struct workflow_execution {
  std::string id;
  std::string workflow_name;
  std::string workflow_id;
  std::string workflow_namespace;
  std::string description;
  json tags = json::array();
  state st = state::idle;
  std::optional<std::string> state_info;
  json input = json::object();
  json params = json::object();
  json context = json::object();
  json output = json::object();
  json runtime_context = json::object();
  std::optional<std::string> task_execution_id;
  std::optional<std::string> root_execution_id;
  timestamp created_at = 0;
  timestamp updated_at = 0;
  /// Not stored: the row is in the store (see action_execution::stored).
  bool stored = false;
};

/// Everything one execution actor owns.
struct execution {
  workflow_execution wf;
  std::shared_ptr<const dsl::workflow_spec> spec;
  std::vector<task_execution> tasks;               ///< in creation order
  std::map<std::string, action_execution> actions; ///< by id

  task_execution* find_task(const std::string& id);
  const task_execution* find_task(const std::string& id) const;
  /// The newest task execution called `name`, or null.
  const task_execution* last_task_named(const std::string& name) const;

private:
  /// Positions in `tasks` by id and by name (newest), extended lazily with the
  /// tasks appended since the last look-up and rebuilt when a hit does not match:
  /// joins and fan-outs look tasks up per arrival, which was quadratic as scans.
  struct task_index {
    std::unordered_map<std::string, std::size_t> by_id;
    std::unordered_map<std::string, std::size_t> by_name;
    std::size_t indexed = 0;
  };
  mutable task_index index_;
  void sync_index() const;
  void rebuild_index() const;
  std::optional<std::size_t> lookup(const std::unordered_map<std::string, std::size_t>& m,
                                    const std::string& key, bool by_id) const;
};

} // namespace mistral::engine

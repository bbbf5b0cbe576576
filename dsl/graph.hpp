#pragma once

// The compiled form of one workflow that the engine walks: per task its
// outbound transitions by event (with task-defaults applied as Mistral's
// DirectWorkflowSpec.get_on_*_clause does), its inbound edges, whether it is
// a start task, its join cardinality, and for reverse workflows the
// dependency DAG. Plain data, immutable once built, shared between threads.

#include "common/json.hpp"
#include "dsl/spec.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mistral::dsl {

/// Which outcome of the source task an edge follows.
enum class transition_event { on_success, on_error, on_complete };

/// "on-success", "on-error" or "on-complete".
const char* to_string(transition_event e) noexcept;

/// One transition: `from` --event[condition]--> `to`.
struct graph_edge {
  std::string from;
  std::string to; ///< a task name or an engine command
  transition_event event = transition_event::on_success;
  std::string condition;           ///< "" when unconditional, else an expression
  json params = json::object();    ///< inline params of the target (e.g. fail msg)
  bool engine_command = false;     ///< `to` is noop / fail / succeed / pause
  bool from_task_defaults = false; ///< inherited from task-defaults
};

/// How many inbound tasks a join waits for.
struct join_spec {
  bool all = false;      ///< `join: all`
  std::size_t count = 0; ///< tasks needed: inbound count for all, 1 for one, N
};

/// One task of the compiled graph.
struct graph_task {
  std::string name;
  std::size_t spec_index = 0;          ///< index into workflow_spec::tasks
  std::vector<std::size_t> on_success; ///< edge indices, in clause order
  std::vector<std::size_t> on_error;
  std::vector<std::size_t> on_complete;
  std::vector<std::size_t> inbound;       ///< edges whose `to` is this task
  std::vector<std::string> inbound_tasks; ///< distinct sources (Mistral's inbound task specs)
  bool start = false;                     ///< no inbound transition (direct)
  std::optional<join_spec> join;          ///< set for join tasks
  std::vector<std::string> requires_;     ///< reverse: dependencies (task + task-defaults, minus self)

  /// The outbound edge indices of `e`.
  const std::vector<std::size_t>& outbound(transition_event e) const noexcept;
};

/// A compiled workflow.
struct workflow_graph {
  std::string workflow_name;
  workflow_type type = workflow_type::direct;
  std::vector<graph_task> tasks; ///< in definition order
  std::vector<graph_edge> edges;
  std::vector<std::string> start_tasks;               ///< direct: tasks without inbound transitions
  std::unordered_map<std::string, std::size_t> index; ///< task name -> position in `tasks`

  /// The task named `name`, or null.
  const graph_task* find(std::string_view name) const noexcept;

  /// Reverse workflows: every task needed to run `target`, dependencies
  /// first (networkx dfs_postorder_nodes on the reversed dependency graph,
  /// as Mistral's ReverseWorkflowController walks it). Empty when `target`
  /// is not a task.
  std::vector<std::string> reverse_plan(std::string_view target) const;
};

/// Compiles `spec` (already validated).
std::shared_ptr<const workflow_graph> compile_graph(const workflow_spec& spec);

/// A thread-safe cache of compiled graphs keyed by a definition checksum.
/// When it holds `capacity` graphs, the oldest one is dropped.
class graph_cache {
public:
  explicit graph_cache(std::size_t capacity = 256) : capacity_(capacity) {}

  /// The graph cached under `checksum`, compiling `spec` on a miss.
  std::shared_ptr<const workflow_graph> get(const std::string& checksum, const workflow_spec& spec);

  /// Number of cached graphs.
  std::size_t size() const;

  /// Drops every cached graph.
  void clear();

private:
  mutable std::mutex mu_;
  std::size_t capacity_;
  std::unordered_map<std::string, std::shared_ptr<const workflow_graph>> graphs_;
  std::vector<std::string> order_; ///< insertion order, for eviction
};

/// The process-wide graph cache.
graph_cache& default_graph_cache();

/// A stable checksum of a definition text (64-bit FNV-1a, 16 hex digits),
/// usable as the cache key when the caller has none.
std::string definition_checksum(std::string_view text);

} // namespace mistral::dsl

#pragma once

#include "actors/workflow/model.hpp"
#include "dsl/expr/host.hpp"

namespace mistral::engine {

/// Answers task(), tasks(), execution() and global() from an execution's
/// in-memory state. `current` is the task evaluating, if any.
class expression_host final : public expr::host {
public:
  expression_host(const engine::execution& ex, const task_execution* current) : ex_(ex), current_(current) {}

  result<json> task(const std::optional<std::string>& name) const override;
  result<json> tasks(const expr::tasks_query& q) const override;
  result<json> execution() const override;
  result<json> executions(const expr::executions_query& q) const override;
  result<json> global(const std::string& name) const override;

  /// Mistral's task dict of `t` (task() / tasks() items).
  json task_dict(const task_execution& t) const;

private:
  const engine::execution& ex_;
  const task_execution* current_;
};

} // namespace mistral::engine

#include "actors/workflow/model.hpp"

namespace mistral::engine {

task_execution* execution::find_task(const std::string& id) {
  for (auto& t : tasks)
    if (t.id == id)
      return &t;
  return nullptr;
}

const task_execution* execution::find_task(const std::string& id) const {
  for (const auto& t : tasks)
    if (t.id == id)
      return &t;
  return nullptr;
}

const task_execution* execution::last_task_named(const std::string& name) const {
  for (auto it = tasks.rbegin(); it != tasks.rend(); ++it)
    if (it->name == name)
      return &*it;
  return nullptr;
}

} // namespace mistral::engine

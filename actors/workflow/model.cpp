#include "actors/workflow/model.hpp"

#include <utility>

namespace mistral::engine {

void execution::rebuild_index() const {
  index_ = task_index{};
  sync_index();
}

void execution::sync_index() const {
  if (index_.indexed > tasks.size()) {
    rebuild_index();
    return;
  }
  for (; index_.indexed < tasks.size(); ++index_.indexed) {
    const auto& t = tasks[index_.indexed];
    index_.by_id[t.id] = index_.indexed;
    index_.by_name[t.name] = index_.indexed;
  }
}

std::optional<std::size_t> execution::lookup(const std::unordered_map<std::string, std::size_t>& m,
                                             const std::string& key, bool by_id) const {
  auto it = m.find(key);
  if (it == m.end())
    return std::nullopt;
  const auto& t = tasks[it->second];
  if ((by_id ? t.id : t.name) != key)
    return std::nullopt;
  return it->second;
}

// A hit is checked against the task it points at; a miss is confirmed by a
// scan (rare: a task not run yet), so a vector replaced behind the index's back
// is still answered right, and the index is rebuilt when it was stale.
const task_execution* execution::find_task(const std::string& id) const {
  sync_index();
  if (auto i = lookup(index_.by_id, id, true))
    return &tasks[*i];
  for (const auto& t : tasks)
    if (t.id == id) {
      rebuild_index();
      return &t;
    }
  return nullptr;
}

task_execution* execution::find_task(const std::string& id) {
  return const_cast<task_execution*>(std::as_const(*this).find_task(id));
}

const task_execution* execution::last_task_named(const std::string& name) const {
  sync_index();
  if (auto i = lookup(index_.by_name, name, false))
    return &tasks[*i];
  for (auto it = tasks.rbegin(); it != tasks.rend(); ++it)
    if (it->name == name) {
      rebuild_index();
      return &*it;
    }
  return nullptr;
}

} // namespace mistral::engine

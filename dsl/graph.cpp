#include "dsl/graph.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace mistral::dsl {

const char* to_string(transition_event e) noexcept {
  switch (e) {
    case transition_event::on_success: return "on-success";
    case transition_event::on_error: return "on-error";
    case transition_event::on_complete: return "on-complete";
  }
  return "on-complete";
}

const std::vector<std::size_t>& graph_task::outbound(transition_event e) const noexcept {
  switch (e) {
    case transition_event::on_success: return on_success;
    case transition_event::on_error: return on_error;
    default: return on_complete;
  }
}

const graph_task* workflow_graph::find(std::string_view name) const noexcept {
  auto it = index.find(std::string(name));
  return it == index.end() ? nullptr : &tasks[it->second];
}

std::vector<std::string> workflow_graph::reverse_plan(std::string_view target) const {
  std::vector<std::string> out;
  if (!find(target))
    return out;
  std::vector<bool> seen(tasks.size(), false);
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    seen[i] = true;
    for (const auto& dep : tasks[i].requires_) {
      auto it = index.find(dep);
      if (it != index.end() && !seen[it->second])
        visit(it->second);
    }
    out.push_back(tasks[i].name);
  };
  visit(index.at(std::string(target)));
  return out;
}

namespace {

// The clause a task follows for one event: its own when it has targets,
// else the task-defaults one without references to the task itself.
std::vector<std::pair<transition, bool>>
effective_clause(const workflow_spec& wf, const task_spec& t, const std::optional<on_clause_spec>& own,
                 const std::optional<on_clause_spec> task_defaults_spec::*def) {
  std::vector<std::pair<transition, bool>> out;
  if (own && !own->next.empty()) {
    for (const auto& tr : own->next)
      out.emplace_back(tr, false);
    return out;
  }
  if (wf.task_defaults && (*wf.task_defaults).*def)
    for (const auto& tr : ((*wf.task_defaults).*def)->next)
      if (tr.target != t.name)
        out.emplace_back(tr, true);
  return out;
}

void add_edges(workflow_graph& g, std::size_t task_index, transition_event ev,
               const std::vector<std::pair<transition, bool>>& clause) {
  graph_task& node = g.tasks[task_index];
  std::vector<std::size_t>& slot = ev == transition_event::on_success ? node.on_success
                                   : ev == transition_event::on_error ? node.on_error
                                                                      : node.on_complete;
  for (const auto& [tr, inherited] : clause) {
    graph_edge e;
    e.from = node.name;
    e.to = tr.target;
    e.event = ev;
    e.condition = tr.condition;
    e.params = tr.params;
    // The engine runs a command even when a task has the same name
    // (commands.create_command looks commands up first).
    e.engine_command = is_engine_command(tr.target);
    e.from_task_defaults = inherited;
    slot.push_back(g.edges.size());
    g.edges.push_back(std::move(e));
  }
}

void compile_direct(workflow_graph& g, const workflow_spec& spec) {
  for (std::size_t i = 0; i < spec.tasks.size(); ++i) {
    const task_spec& t = spec.tasks[i];
    add_edges(g, i, transition_event::on_error,
              effective_clause(spec, t, t.on_error, &task_defaults_spec::on_error));
    add_edges(g, i, transition_event::on_success,
              effective_clause(spec, t, t.on_success, &task_defaults_spec::on_success));
    add_edges(g, i, transition_event::on_complete,
              effective_clause(spec, t, t.on_complete, &task_defaults_spec::on_complete));
  }
  for (std::size_t e = 0; e < g.edges.size(); ++e) {
    const graph_edge& edge = g.edges[e];
    auto it = g.index.find(edge.to);
    // By name, as Mistral's find_inbound_task_specs counts them.
    if (it == g.index.end())
      continue;
    graph_task& target = g.tasks[it->second];
    target.inbound.push_back(e);
    if (std::find(target.inbound_tasks.begin(), target.inbound_tasks.end(), edge.from) ==
        target.inbound_tasks.end())
      target.inbound_tasks.push_back(edge.from);
  }
  for (std::size_t i = 0; i < spec.tasks.size(); ++i) {
    graph_task& node = g.tasks[i];
    node.start = node.inbound_tasks.empty();
    if (node.start)
      g.start_tasks.push_back(node.name);
    const json& join = spec.tasks[i].join;
    // Mistral tests `if task_spec.get_join()`: 0 means no join.
    if (join.is_string() && join == "all")
      node.join = join_spec{true, node.inbound_tasks.size()};
    else if (join.is_string() && join == "one")
      node.join = join_spec{false, 1};
    else if (join.is_number() && join.get<double>() >= 1)
      node.join = join_spec{false, static_cast<std::size_t>(join.get<double>())};
  }
}

void compile_reverse(workflow_graph& g, const workflow_spec& spec) {
  for (std::size_t i = 0; i < spec.tasks.size(); ++i) {
    const task_spec& t = spec.tasks[i];
    std::vector<std::string> reqs = t.requires_;
    if (spec.task_defaults)
      reqs.insert(reqs.end(), spec.task_defaults->requires_.begin(), spec.task_defaults->requires_.end());
    // Dependencies in definition order, each once, never the task itself.
    for (const auto& other : spec.tasks)
      if (other.name != t.name && std::find(reqs.begin(), reqs.end(), other.name) != reqs.end())
        g.tasks[i].requires_.push_back(other.name);
  }
}

} // namespace

std::shared_ptr<const workflow_graph> compile_graph(const workflow_spec& spec) {
  auto g = std::make_shared<workflow_graph>();
  g->workflow_name = spec.name;
  g->type = spec.type;
  for (std::size_t i = 0; i < spec.tasks.size(); ++i) {
    graph_task node;
    node.name = spec.tasks[i].name;
    node.spec_index = i;
    g->index.emplace(node.name, i);
    g->tasks.push_back(std::move(node));
  }
  if (spec.type == workflow_type::direct)
    compile_direct(*g, spec);
  else
    compile_reverse(*g, spec);
  return g;
}

std::shared_ptr<const workflow_graph> graph_cache::get(const std::string& checksum,
                                                       const workflow_spec& spec) {
  {
    std::lock_guard lock(mu_);
    if (auto it = graphs_.find(checksum); it != graphs_.end())
      return it->second;
  }
  // Compile outside the lock: two threads may compile the same graph once
  // each, which is harmless, and nobody waits behind a large workflow.
  auto g = compile_graph(spec);
  std::lock_guard lock(mu_);
  auto [it, inserted] = graphs_.emplace(checksum, g);
  if (!inserted)
    return it->second;
  order_.push_back(checksum);
  while (capacity_ > 0 && graphs_.size() > capacity_) {
    graphs_.erase(order_.front());
    order_.erase(order_.begin());
  }
  return g;
}

std::size_t graph_cache::size() const {
  std::lock_guard lock(mu_);
  return graphs_.size();
}

void graph_cache::clear() {
  std::lock_guard lock(mu_);
  graphs_.clear();
  order_.clear();
}

graph_cache& default_graph_cache() {
  static graph_cache cache;
  return cache;
}

std::string definition_checksum(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

} // namespace mistral::dsl

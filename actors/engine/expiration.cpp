#include "actors/engine/expiration.hpp"

#include "persistence/execution_tables.hpp"
#include "persistence/lease_tables.hpp"

#include <algorithm>

namespace mistral::engine {

namespace {

using persistence::filter;
using persistence::filter_op;
using persistence::write_op;

const std::vector<std::string>& terminal_states() {
  static const std::vector<std::string> states = {"SUCCESS", "ERROR", "CANCELLED"};
  return states;
}

std::optional<std::int64_t> positive_or_none(const config::config& cfg, const char* name) {
  auto v = cfg.get_int("execution_expiration_policy", name, -1);
  return v < 0 ? std::nullopt : std::optional<std::int64_t>(v);
}

// _get_completed_root_executions_query.
persistence::list_query completed_roots(const expiration_policy& p) {
  std::vector<json> states;
  for (const auto& s : deletable_states(p))
    states.push_back(s);
  persistence::list_query q;
  q.filters = {filter{"task_execution_id", filter_op::is_null, {}}, filter{"state", filter_op::in, states}};
  if (p.batch_size > 0)
    q.limit = p.batch_size;
  return q;
}

// `ids` in chunks short enough for one IN (...) list.
std::vector<std::vector<json>> chunks_of(const std::vector<std::string>& ids) {
  constexpr std::size_t chunk = 500;
  std::vector<std::vector<json>> out;
  for (std::size_t i = 0; i < ids.size(); i += chunk)
    out.emplace_back(ids.begin() + i, ids.begin() + std::min(ids.size(), i + chunk));
  return out;
}

// _delete_until_depleted: fetch a batch, delete it, until none is left.
result<std::int64_t> delete_until_depleted(persistence::database& db, const persistence::list_query& q) {
  std::int64_t deleted = 0;
  while (true) {
    auto rows = db.list(persistence::workflow_executions_table(), q);
    if (!rows.ok())
      return std::move(rows).err();
    if (rows->empty())
      return deleted;
    std::vector<std::string> ids;
    for (const auto& r : *rows)
      ids.push_back(r["id"].get<std::string>());
    auto done = delete_execution_trees(db, ids);
    if (!done.ok())
      return std::move(done).err();
    deleted += static_cast<std::int64_t>(ids.size());
  }
}

} // namespace

bool expiration_policy::enabled() const {
  return evaluation_interval_min.value_or(0) > 0 &&
         (older_than_min.value_or(0) >= 1 || max_finished_executions >= 1);
}

result<expiration_policy> read_expiration_policy(const config::config& cfg) {
  expiration_policy p;
  p.evaluation_interval_min = positive_or_none(cfg, "evaluation_interval");
  p.older_than_min = positive_or_none(cfg, "older_than");
  p.max_finished_executions = cfg.get_int("execution_expiration_policy", "max_finished_executions", 0);
  p.batch_size = cfg.get_int("execution_expiration_policy", "batch_size", 0);
  p.ignored_states = cfg.get_list("execution_expiration_policy", "ignored_states");
  for (const auto& s : p.ignored_states) {
    const auto& valid = terminal_states();
    if (std::find(valid.begin(), valid.end(), s) == valid.end())
      return error(errc::invalid_input, s + " is not a terminal state. The valid states are "
                                            "[{'SUCCESS', 'ERROR', 'CANCELLED'}]");
  }
  return p;
}

std::vector<std::string> deletable_states(const expiration_policy& p) {
  std::vector<std::string> out;
  for (const auto& s : terminal_states())
    if (std::find(p.ignored_states.begin(), p.ignored_states.end(), s) == p.ignored_states.end())
      out.push_back(s);
  return out;
}

std::optional<persistence::list_query> expired_query(const expiration_policy& p, timestamp now) {
  if (!p.older_than_min || *p.older_than_min < 1)
    return std::nullopt;
  auto q = completed_roots(p);
  timestamp cutoff = now - *p.older_than_min * 60 * 1'000'000;
  q.filters.push_back(filter{"updated_at", filter_op::lt, {cutoff}});
  q.sort = {{"updated_at", false}, {"id", false}};
  return q;
}

std::optional<persistence::list_query> superfluous_query(const expiration_policy& p) {
  if (p.max_finished_executions <= 0)
    return std::nullopt;
  auto q = completed_roots(p);
  q.sort = {{"updated_at", true}, {"id", true}};
  q.offset = p.max_finished_executions;
  return q;
}

status delete_execution_trees(persistence::database& db, const std::vector<std::string>& root_ids) {
  // Every sub-workflow execution names its root execution.
  std::vector<std::string> all = root_ids;
  for (auto& part : chunks_of(root_ids)) {
    persistence::list_query subs;
    subs.filters = {filter{"root_execution_id", filter_op::in, std::move(part)}};
    auto rows = db.list(persistence::workflow_executions_table(), subs);
    if (!rows.ok())
      return std::move(rows).err();
    for (const auto& r : *rows)
      all.push_back(r["id"].get<std::string>());
  }
  std::vector<write_op> ops;
  for (const auto& part : chunks_of(all)) {
    for (const auto* t : {&persistence::action_executions_table(), &persistence::task_executions_table(),
                          &persistence::delayed_calls_table()})
      ops.push_back({write_op::kind::remove, t, {}, {filter{"workflow_execution_id", filter_op::in, part}}});
    ops.push_back({write_op::kind::remove,
                   &persistence::workflow_executions_table(),
                   {},
                   {filter{"id", filter_op::in, part}}});
    ops.push_back({write_op::kind::remove,
                   &persistence::execution_leases_table(),
                   {},
                   {filter{"id", filter_op::in, part}}});
  }
  if (ops.empty())
    return ok_v;
  return db.write_batch(ops);
}

result<std::int64_t> run_expiration_policy(persistence::database& db, const expiration_policy& p,
                                           timestamp now) {
  std::int64_t deleted = 0;
  for (const auto& q : {expired_query(p, now), superfluous_query(p)}) {
    if (!q)
      continue;
    auto n = delete_until_depleted(db, *q);
    if (!n.ok())
      return std::move(n).err();
    deleted += *n;
  }
  return deleted;
}

} // namespace mistral::engine

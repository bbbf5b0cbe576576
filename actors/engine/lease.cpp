#include "actors/engine/lease.hpp"

#include "persistence/lease_tables.hpp"

#include <algorithm>

namespace mistral::engine {

namespace {

using persistence::filter;
using persistence::filter_op;
using persistence::write_op;

std::string text_of(const json& row, const char* column) {
  const json& v = row.contains(column) ? row[column] : json();
  return v.is_string() ? v.get<std::string>() : "";
}

std::int64_t int_of(const json& row, const char* column) {
  const json& v = row.contains(column) ? row[column] : json();
  return v.is_number() ? v.get<std::int64_t>() : 0;
}

lease_row to_lease(const json& r) {
  return {text_of(r, "id"), text_of(r, "owner_node"), int_of(r, "owner_epoch"), r.value("finished", false)};
}

} // namespace

std::string incarnation_id(const std::string& name, std::int64_t epoch) {
  return name + "#" + std::to_string(epoch);
}

void liveness_view::observe(const std::vector<node_row>& rows, timestamp now) {
  std::map<std::string, std::map<std::int64_t, node_row>> next;
  std::map<std::pair<std::string, std::int64_t>, timestamp> changed;
  for (const auto& r : rows) {
    auto key = std::make_pair(r.name, r.epoch);
    auto name = rows_.find(r.name);
    bool same = false;
    if (name != rows_.end()) {
      auto old = name->second.find(r.epoch);
      same = old != name->second.end() && old->second.heartbeat_at == r.heartbeat_at;
    }
    changed[key] = same ? changed_at_.at(key) : now;
    next[r.name][r.epoch] = r;
  }
  rows_ = std::move(next);
  changed_at_ = std::move(changed);
}

bool liveness_view::dead(const std::string& node, std::int64_t epoch, const lease_owner& me,
                         timestamp now) const {
  if (node == me.node && epoch == me.epoch)
    return false;
  auto at = changed_at_.find({node, epoch});
  if (at == changed_at_.end())
    return true;
  return now - at->second > ttl_;
}

route route_message(const std::optional<lease_row>& lease, const lease_owner& me, const liveness_view& view,
                    timestamp now) {
  if (!lease)
    return {route::kind::claim_new, {}};
  if (lease->owner_node == me.node && lease->owner_epoch == me.epoch)
    return {route::kind::local, {}};
  if (view.dead(lease->owner_node, lease->owner_epoch, me, now))
    return {route::kind::claim, {}};
  return {route::kind::forward, lease->owner_node};
}

std::vector<lease_row> plan_takeover(const std::vector<lease_row>& candidates, const lease_owner& me,
                                     const liveness_view& view, timestamp now, bool restart) {
  std::vector<lease_row> out;
  for (const auto& l : candidates) {
    if (l.finished || (l.owner_node == me.node && l.owner_epoch == me.epoch))
      continue;
    bool my_earlier = restart && l.owner_node == me.node && l.owner_epoch < me.epoch;
    if (my_earlier || view.dead(l.owner_node, l.owner_epoch, me, now))
      out.push_back(l);
  }
  return out;
}

write_op own_op(const std::string& execution_id, const lease_owner& me, timestamp now_wall) {
  return {write_op::kind::insert,
          &persistence::execution_leases_table(),
          {{"id", execution_id},
           {"owner_node", me.node},
           {"owner_epoch", me.epoch},
           {"finished", false},
           {"claimed_at", now_wall}},
          {}};
}

write_op fence_op(const std::string& execution_id, const lease_owner& me, bool finished) {
  return {write_op::kind::expect,
          &persistence::execution_leases_table(),
          {{"finished", finished}},
          {filter{"id", filter_op::eq, {execution_id}}, filter{"owner_node", filter_op::eq, {me.node}},
           filter{"owner_epoch", filter_op::eq, {me.epoch}}}};
}

bool is_fenced(const error& e) {
  return e.code == errc::conflict && e.message == persistence::fenced_message;
}

result<std::int64_t> register_node(persistence::database& db, const std::string& name, timestamp now_wall) {
  const auto& t = persistence::engine_nodes_table();
  // Another process of the same name may register at the same time: the
  // insert of an epoch taken already fails, and the next one is tried.
  for (int attempt = 0; attempt < 20; ++attempt) {
    persistence::list_query q;
    q.filters = {filter{"node_name", filter_op::eq, {name}}};
    q.sort = {{"epoch", true}};
    q.limit = 1;
    auto last = db.list(t, q);
    if (!last.ok())
      return std::move(last).err();
    std::int64_t epoch = last->empty() ? 1 : int_of(last->front(), "epoch") + 1;
    auto added = db.insert(t, {{"id", incarnation_id(name, epoch)},
                               {"node_name", name},
                               {"epoch", epoch},
                               {"heartbeat_at", now_wall},
                               {"started_at", now_wall}});
    if (added.ok())
      return epoch;
    if (added.err().code != errc::conflict)
      return std::move(added).err();
  }
  return error(errc::conflict, "cannot register engine node " + name + ": its epochs keep being taken");
}

result<bool> write_heartbeat(persistence::database& db, const lease_owner& me, timestamp now_wall) {
  auto n = db.update(persistence::engine_nodes_table(),
                     {filter{"id", filter_op::eq, {incarnation_id(me.node, me.epoch)}}},
                     {{"heartbeat_at", now_wall}});
  if (!n.ok())
    return std::move(n).err();
  return *n == 1;
}

result<std::vector<node_row>> read_nodes(persistence::database& db) {
  auto rows = db.list(persistence::engine_nodes_table(), {});
  if (!rows.ok())
    return std::move(rows).err();
  std::vector<node_row> out;
  for (const auto& r : *rows)
    out.push_back({text_of(r, "node_name"), int_of(r, "epoch"), int_of(r, "heartbeat_at")});
  return out;
}

result<std::optional<lease_row>> read_lease(persistence::database& db, const std::string& execution_id) {
  auto row =
    db.find_one(persistence::execution_leases_table(), {filter{"id", filter_op::eq, {execution_id}}});
  if (!row.ok())
    return std::move(row).err();
  if (!row->has_value())
    return std::optional<lease_row>();
  return std::optional<lease_row>(to_lease(**row));
}

result<std::vector<lease_row>> read_takeover_candidates(persistence::database& db, const lease_owner& me,
                                                        const liveness_view& view, timestamp now,
                                                        bool restart) {
  const auto& t = persistence::execution_leases_table();
  std::vector<lease_row> out;
  auto read = [&](std::vector<filter> where) -> status {
    where.push_back(filter{"finished", filter_op::eq, {false}});
    persistence::list_query q;
    q.filters = std::move(where);
    auto rows = db.list(t, q);
    if (!rows.ok())
      return std::move(rows).err();
    for (const auto& r : *rows)
      out.push_back(to_lease(r));
    return ok_v;
  };
  std::map<std::string, std::vector<std::int64_t>> known; // name -> epochs with a row
  for (const auto& [name, epochs] : view.nodes())
    for (const auto& [epoch, row] : epochs)
      known[name].push_back(epoch);
  known[me.node].push_back(me.epoch);
  std::vector<json> names;
  for (const auto& [name, epochs] : known) {
    names.push_back(name);
    std::vector<json> dead, all(epochs.begin(), epochs.end());
    for (auto e : epochs)
      if (view.dead(name, e, me, now) || (restart && name == me.node && e < me.epoch))
        dead.push_back(e);
    // A live incarnation's leases are its own business.
    if (!dead.empty())
      if (auto s =
            read({filter{"owner_node", filter_op::eq, {name}}, filter{"owner_epoch", filter_op::in, dead}});
          !s.ok())
        return std::move(s).err();
    // Epochs without a row (their row is gone).
    if (auto s =
          read({filter{"owner_node", filter_op::eq, {name}}, filter{"owner_epoch", filter_op::nin, all}});
        !s.ok())
      return std::move(s).err();
  }
  // Leases of nodes that have no row at all (e.g. from a store older than leases).
  if (auto s = read({filter{"owner_node", filter_op::nin, names}}); !s.ok())
    return std::move(s).err();
  return out;
}

result<bool> claim(persistence::database& db, const lease_row& seen, const lease_owner& me,
                   timestamp now_wall) {
  auto n = db.update(persistence::execution_leases_table(),
                     {filter{"id", filter_op::eq, {seen.execution_id}},
                      filter{"owner_node", filter_op::eq, {seen.owner_node}},
                      filter{"owner_epoch", filter_op::eq, {seen.owner_epoch}}},
                     {{"owner_node", me.node}, {"owner_epoch", me.epoch}, {"claimed_at", now_wall}});
  if (!n.ok())
    return std::move(n).err();
  return *n == 1;
}

result<std::vector<std::string>> claim_all(persistence::database& db, const std::vector<lease_row>& seen,
                                           const lease_owner& me, timestamp now_wall) {
  constexpr std::size_t chunk = 200; // IN (...) lists stay short
  const auto& t = persistence::execution_leases_table();
  std::map<std::pair<std::string, std::int64_t>, std::vector<json>> by_owner;
  for (const auto& l : seen)
    by_owner[{l.owner_node, l.owner_epoch}].push_back(l.execution_id);
  std::vector<json> all;
  for (auto& [owner, ids] : by_owner)
    for (std::size_t i = 0; i < ids.size(); i += chunk) {
      std::vector<json> part(ids.begin() + i, ids.begin() + std::min(ids.size(), i + chunk));
      all.insert(all.end(), part.begin(), part.end());
      auto n = db.update(t,
                         {filter{"id", filter_op::in, std::move(part)},
                          filter{"owner_node", filter_op::eq, {owner.first}},
                          filter{"owner_epoch", filter_op::eq, {owner.second}}},
                         {{"owner_node", me.node}, {"owner_epoch", me.epoch}, {"claimed_at", now_wall}});
      if (!n.ok())
        return std::move(n).err();
    }
  std::vector<std::string> won;
  for (std::size_t i = 0; i < all.size(); i += chunk) {
    persistence::list_query q;
    q.filters = {filter{"id", filter_op::in,
                        std::vector<json>(all.begin() + i, all.begin() + std::min(all.size(), i + chunk))},
                 filter{"owner_node", filter_op::eq, {me.node}},
                 filter{"owner_epoch", filter_op::eq, {me.epoch}}};
    auto rows = db.list(t, q);
    if (!rows.ok())
      return std::move(rows).err();
    for (const auto& r : *rows)
      won.push_back(text_of(r, "id"));
  }
  return won;
}

result<bool> claim_new(persistence::database& db, const std::string& execution_id, const lease_owner& me,
                       timestamp now_wall) {
  auto added = db.insert(persistence::execution_leases_table(), {{"id", execution_id},
                                                                 {"owner_node", me.node},
                                                                 {"owner_epoch", me.epoch},
                                                                 {"finished", false},
                                                                 {"claimed_at", now_wall}});
  if (added.ok())
    return true;
  if (added.err().code == errc::conflict)
    return false;
  return std::move(added).err();
}

} // namespace mistral::engine

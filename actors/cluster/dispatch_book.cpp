#include "actors/cluster/dispatch_book.hpp"

#include <algorithm>

namespace mistral::cluster {

void dispatch_book::wait(action_job job) {
  pending_.push_back(std::move(job));
}

std::vector<action_job> dispatch_book::take_pending_for(const std::string& target) {
  std::vector<action_job> out;
  auto keep = std::stable_partition(pending_.begin(), pending_.end(), [&](const action_job& j) {
    return !(j.target.empty() || j.target == target);
  });
  out.assign(std::make_move_iterator(keep), std::make_move_iterator(pending_.end()));
  pending_.erase(keep, pending_.end());
  return out;
}

void dispatch_book::sent(action_job job, const std::string& node) {
  auto id = job.action_id;
  in_flight_[id] = running{std::move(job), node};
}

std::optional<action_job> dispatch_book::finished(const std::string& action_id) {
  auto it = in_flight_.find(action_id);
  if (it == in_flight_.end())
    return std::nullopt;
  auto job = std::move(it->second.job);
  in_flight_.erase(it);
  return job;
}

dispatch_book::lost dispatch_book::node_lost(const std::string& node) {
  lost out;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second.node != node) {
      ++it;
      continue;
    }
    (it->second.job.safe_rerun ? out.rerun : out.fail).push_back(std::move(it->second.job));
    it = in_flight_.erase(it);
  }
  return out;
}

void dispatch_book::drop(const std::string& action_id) {
  in_flight_.erase(action_id);
  std::erase_if(pending_, [&](const action_job& j) { return j.action_id == action_id; });
}

std::size_t dispatch_book::in_flight_on(const std::string& node) const {
  return static_cast<std::size_t>(std::count_if(in_flight_.begin(), in_flight_.end(),
                                                [&](const auto& kv) { return kv.second.node == node; }));
}

std::vector<std::string> dispatch_book::pending_targets() const {
  std::vector<std::string> out;
  for (const auto& j : pending_)
    if (std::find(out.begin(), out.end(), j.target) == out.end())
      out.push_back(j.target);
  return out;
}

std::string lost_action_text(const std::string& node) {
  return "The action was running on executor node '" + node +
         "', which stopped responding; it is not safe-rerun so it was failed";
}

std::string waiting_for_target_text(const std::string& target) {
  return "Waiting for an executor with target '" + target + "'";
}

} // namespace mistral::cluster

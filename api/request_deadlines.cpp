#include "api/request_deadlines.hpp"

namespace mistral::api {

void request_deadlines::add(std::uint64_t id, clock::time_point deadline) {
  auto [it, inserted] = by_id_.try_emplace(id, deadline);
  if (!inserted) {
    by_deadline_.erase({it->second, id});
    it->second = deadline;
  }
  by_deadline_.emplace(deadline, id);
}

bool request_deadlines::remove(std::uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end())
    return false;
  by_deadline_.erase({it->second, id});
  by_id_.erase(it);
  return true;
}

std::vector<std::uint64_t> request_deadlines::expire(clock::time_point now) {
  std::vector<std::uint64_t> out;
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
    auto id = by_deadline_.begin()->second;
    by_deadline_.erase(by_deadline_.begin());
    by_id_.erase(id);
    out.push_back(id);
  }
  return out;
}

} // namespace mistral::api

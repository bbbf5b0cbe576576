#pragma once

// The deadlines of requests in flight, checked by one periodic tick of their
// owner instead of one timer per request (each CAF request timeout is a
// push to CAF's clock thread and a wake-up, and another one to cancel it).

#include <chrono>
#include <cstdint>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mistral::api {

class request_deadlines {
public:
  using clock = std::chrono::steady_clock;

  /// Tracks request `id` until `deadline`. An id already tracked gets the new deadline.
  void add(std::uint64_t id, clock::time_point deadline);
  /// Forgets `id` (it was answered); false when it was not tracked (expired or unknown).
  bool remove(std::uint64_t id);
  /// Removes and returns the ids whose deadline is at or before `now`, earliest first.
  std::vector<std::uint64_t> expire(clock::time_point now);

  bool empty() const { return by_id_.empty(); }
  std::size_t size() const { return by_id_.size(); }

private:
  std::set<std::pair<clock::time_point, std::uint64_t>> by_deadline_;
  std::unordered_map<std::uint64_t, clock::time_point> by_id_;
};

} // namespace mistral::api

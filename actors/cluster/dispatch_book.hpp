#pragma once

// The pure bookkeeping of the engine's action dispatcher: which actions wait
// for an executor, which run on which executor node, and what becomes of
// them when that node dies. No CAF here; dispatcher_actor.cpp is the shell.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mistral::cluster {

/// What the book needs to know about one action run.
struct action_job {
  std::string action_id;
  std::string target;      ///< executor target ("" = any executor)
  bool safe_rerun = false; ///< may run again after its executor died
};

/// Pending and in-flight actions of one dispatcher.
class dispatch_book {
public:
  /// What happened to the actions of a node that died.
  struct lost {
    std::vector<action_job> rerun; ///< safe-rerun: back to pending, send again
    std::vector<action_job> fail;  ///< not safe-rerun: complete as ERROR
  };

  /// Queues a job until an executor for its target is there.
  void wait(action_job job);
  /// The pending jobs an executor with `target` may take, oldest first; they
  /// leave the queue.
  std::vector<action_job> take_pending_for(const std::string& target);
  /// Records that `job` runs on executor node `node`.
  void sent(action_job job, const std::string& node);
  /// Forgets an in-flight action once its result came; nullopt when it was
  /// not in flight (a duplicate, or already failed).
  std::optional<action_job> finished(const std::string& action_id);
  /// Removes every in-flight action of `node` and sorts them by safe_rerun.
  lost node_lost(const std::string& node);
  /// Forgets a job wherever it is (pending or in flight).
  void drop(const std::string& action_id);

  std::size_t pending() const { return pending_.size(); }
  std::size_t in_flight() const { return in_flight_.size(); }
  std::size_t in_flight_on(const std::string& node) const;
  /// The targets the pending jobs wait for, without duplicates, in order.
  std::vector<std::string> pending_targets() const;

private:
  struct running {
    action_job job;
    std::string node;
  };
  std::vector<action_job> pending_;
  std::map<std::string, running> in_flight_; ///< by action id
};

/// The state_info/error text of a non-safe-rerun action whose executor died.
std::string lost_action_text(const std::string& node);

/// The state_info of a task whose action waits for an executor with `target`.
std::string waiting_for_target_text(const std::string& target);

} // namespace mistral::cluster

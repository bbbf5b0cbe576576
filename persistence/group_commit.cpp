// Group commit: one writer thread turns the write batches of many callers
// into few transactions. Under load an fsync costs the same for one batch
// as for a hundred, so throughput follows the number of transactions, not
// the number of transitions.
#include "persistence/database.hpp"

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace mistral::persistence {

std::vector<status> database::write_groups(const std::vector<std::vector<write_op>>& groups) {
  std::vector<status> out;
  out.reserve(groups.size());
  for (const auto& g : groups)
    out.push_back(write_batch(g));
  return out;
}

void database::write_batch_async(std::vector<write_op> ops, commit_callback done) {
  done(write_batch(ops));
}

namespace {

class group_commit_database final : public database {
public:
  group_commit_database(std::shared_ptr<database> inner, std::chrono::microseconds window,
                        std::function<void(std::size_t)> on_idle)
    : inner_(std::move(inner)), window_(window), on_idle_(std::move(on_idle)), writer_([this] { run(); }) {}

  ~group_commit_database() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    writer_.join();
  }

  backend kind() const override { return inner_->kind(); }
  result<std::vector<migration_info>> migrate(int target) override { return inner_->migrate(target); }
  result<std::vector<migration_info>> applied() override { return inner_->applied(); }
  status stamp(int version) override { return inner_->stamp(version); }
  status execute_script(const std::string& sql) override { return inner_->execute_script(sql); }
  status insert(const table_def& t, const record& row) override { return inner_->insert(t, row); }
  result<std::int64_t> update(const table_def& t, const std::vector<filter>& where,
                              const record& changes) override {
    return inner_->update(t, where, changes);
  }
  result<std::int64_t> remove(const table_def& t, const std::vector<filter>& where) override {
    return inner_->remove(t, where);
  }
  result<std::vector<record>> list(const table_def& t, const list_query& q) override {
    return inner_->list(t, q);
  }
  std::vector<status> write_groups(const std::vector<std::vector<write_op>>& groups) override {
    return inner_->write_groups(groups);
  }

  status write_batch(const std::vector<write_op>& ops) override {
    std::promise<status> committed;
    auto outcome = committed.get_future();
    write_batch_async(ops, [&committed](status s) { committed.set_value(std::move(s)); });
    return outcome.get();
  }

  void flush() override {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
  }

  void write_batch_async(std::vector<write_op> ops, commit_callback done) override {
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        queue_.push_back({std::move(ops), std::move(done)});
        wake_.notify_one();
        return;
      }
    }
    done(error(errc::unavailable, "the store is shutting down"));
  }

private:
  struct pending {
    std::vector<write_op> ops;
    commit_callback done;
  };

  void run() {
    std::size_t last_batch = 0;
    for (;;) {
      std::size_t ops = 0;
      {
        std::deque<pending> batch;
        {
          std::unique_lock lock(mutex_);
          wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
          if (queue_.empty())
            return; // stopping, nothing left
          // Several callers last time: more are likely on their way.
          if (last_batch > 1 && window_.count() > 0 && !stopping_)
            wake_.wait_for(lock, window_, [&] { return stopping_; });
          batch.swap(queue_);
          busy_ = true;
        }
        last_batch = batch.size();
        for (const auto& p : batch)
          ops += p.ops.size();
        commit(batch);
      } // the callbacks (and what they hold) are released here
      bool idle = false;
      {
        std::lock_guard lock(mutex_);
        busy_ = false;
        idle = queue_.empty();
        if (idle)
          idle_.notify_all();
      }
      if (idle && on_idle_)
        on_idle_(ops);
    }
  }

  void commit(std::deque<pending>& batch) {
    if (batch.size() == 1) {
      batch.front().done(inner_->write_batch(batch.front().ops));
      return;
    }
    std::vector<std::vector<write_op>> groups;
    groups.reserve(batch.size());
    for (auto& p : batch)
      groups.push_back(std::move(p.ops));
    auto outcomes = inner_->write_groups(groups);
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i].done(i < outcomes.size() ? std::move(outcomes[i])
                                        : error(errc::internal, "no commit outcome"));
  }

  std::shared_ptr<database> inner_;
  std::chrono::microseconds window_;
  std::function<void(std::size_t)> on_idle_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_; ///< flush() waits on it
  std::deque<pending> queue_;
  bool busy_ = false; ///< a batch is being committed or its callbacks released
  bool stopping_ = false;
  std::thread writer_; ///< last: starts once everything above exists
};

} // namespace

std::shared_ptr<database> with_group_commit(std::shared_ptr<database> inner, std::chrono::microseconds window,
                                            std::function<void(std::size_t)> on_idle) {
  return std::make_shared<group_commit_database>(std::move(inner), window, std::move(on_idle));
}

} // namespace mistral::persistence

#include "persistence/database.hpp"
#include "persistence/definition_stores.hpp"
#include "persistence/test_database.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace mistral;
using namespace mistral::persistence;

namespace {

// A migrated store of the back-end the test run asks for.
struct temp_store {
  testing::fresh_db fresh;
  std::shared_ptr<database>& inner = fresh.db;
};

write_op environment(const std::string& id) {
  return {
    write_op::kind::upsert,
    &environments_table(),
    {{"id", id}, {"name", "env-" + id}, {"namespace", ""}, {"variables", json::object()}, {"created_at", 1}},
    {}};
}

// A write the store refuses: a filter on a column the table lacks.
write_op refused() {
  return {write_op::kind::remove, &environments_table(), {}, {filter{"no_such_column", filter_op::eq, {1}}}};
}

std::size_t count_rows(database& db) {
  auto rows = db.list(environments_table(), {});
  REQUIRE(rows.ok());
  return rows->size();
}

} // namespace

TEST_CASE("write_groups commits every group that succeeds and rolls back the one that fails") {
  temp_store store;
  std::vector<std::vector<write_op>> groups = {
    {environment("a")}, {environment("b"), refused()}, {environment("c"), environment("d")}};
  auto outcomes = store.inner->write_groups(groups);
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].ok());
  CHECK_FALSE(outcomes[1].ok());
  CHECK(outcomes[2].ok());
  auto b = store.inner->find_one(environments_table(), {filter{"id", filter_op::eq, {"b"}}});
  REQUIRE(b.ok());
  CHECK_FALSE(b->has_value()); // its group was rolled back as a whole
  CHECK(count_rows(*store.inner) == 3);
}

TEST_CASE("group commit applies the batches of many concurrent callers, each all or nothing") {
  temp_store store;
  auto db = with_group_commit(store.inner, std::chrono::milliseconds(2));
  constexpr int callers = 40;
  std::mutex m;
  std::condition_variable all_done;
  int done = 0, failed = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i)
    threads.emplace_back([&, i] {
      std::vector<write_op> ops{environment("e" + std::to_string(i))};
      if (i % 10 == 0)
        ops.push_back(refused());
      db->write_batch_async(std::move(ops), [&](status s) {
        std::lock_guard lock(m);
        ++done;
        failed += s.ok() ? 0 : 1;
        all_done.notify_one();
      });
    });
  for (auto& t : threads)
    t.join();
  std::unique_lock lock(m);
  all_done.wait(lock, [&] { return done == callers; });
  CHECK(failed == callers / 10);
  CHECK(count_rows(*db) == static_cast<std::size_t>(callers - callers / 10));
}

TEST_CASE("the group-commit wrapper's synchronous writes wait for their commit") {
  temp_store store;
  auto db = with_group_commit(store.inner, std::chrono::milliseconds(0));
  CHECK(db->write_batch({environment("x")}).ok());
  CHECK(count_rows(*store.inner) == 1);
  auto bad = db->write_batch({environment("y"), refused()});
  CHECK_FALSE(bad.ok());
  CHECK(count_rows(*store.inner) == 1);
}

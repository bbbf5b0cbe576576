#include "actors/cluster/dispatch_book.hpp"

#include <doctest/doctest.h>

using namespace mistral::cluster;

TEST_CASE("pending jobs go to an executor of their target or to any when they have none") {
  dispatch_book b;
  b.wait({"a1", "", false});
  b.wait({"a2", "gpu", false});
  b.wait({"a3", "tpu", false});
  CHECK(b.pending_targets() == std::vector<std::string>{"", "gpu", "tpu"});
  auto gpu = b.take_pending_for("gpu");
  REQUIRE(gpu.size() == 2);
  CHECK(gpu[0].action_id == "a1");
  CHECK(gpu[1].action_id == "a2");
  CHECK(b.pending() == 1);
  CHECK(b.take_pending_for("gpu").empty());
}

TEST_CASE("a finished action leaves the book once and a duplicate result is not relayed") {
  dispatch_book b;
  b.sent({"a1", "", false}, "x-1");
  CHECK(b.in_flight_on("x-1") == 1);
  CHECK(b.finished("a1").has_value());
  CHECK_FALSE(b.finished("a1").has_value());
  CHECK(b.in_flight() == 0);
}

TEST_CASE("when an executor node dies its safe-rerun actions are rerun and the others failed") {
  dispatch_book b;
  b.sent({"a1", "", true}, "x-1");
  b.sent({"a2", "", false}, "x-1");
  b.sent({"a3", "", false}, "x-2");
  auto lost = b.node_lost("x-1");
  REQUIRE(lost.rerun.size() == 1);
  CHECK(lost.rerun[0].action_id == "a1");
  REQUIRE(lost.fail.size() == 1);
  CHECK(lost.fail[0].action_id == "a2");
  CHECK(b.in_flight() == 1);
  CHECK(b.in_flight_on("x-2") == 1);
  CHECK(b.node_lost("x-1").fail.empty());
}

TEST_CASE("dropping a job removes it from pending and in flight") {
  dispatch_book b;
  b.wait({"a1", "t", false});
  b.sent({"a2", "", false}, "x");
  b.drop("a1");
  b.drop("a2");
  CHECK(b.pending() == 0);
  CHECK(b.in_flight() == 0);
}

TEST_CASE("the texts name the dead node and the awaited target") {
  CHECK(lost_action_text("executor-2") ==
        "The action was running on executor node 'executor-2', which stopped responding; it is not "
        "safe-rerun so it was failed");
  CHECK(waiting_for_target_text("gpu") == "Waiting for an executor with target 'gpu'");
}

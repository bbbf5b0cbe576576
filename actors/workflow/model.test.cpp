#include "actors/workflow/model.hpp"

#include <doctest/doctest.h>

using namespace mistral::engine;

namespace {

task_execution task(const std::string& id, const std::string& name) {
  task_execution t;
  t.id = id;
  t.name = name;
  return t;
}

} // namespace

TEST_CASE("tasks are found by id and the newest by name, also after more are appended") {
  execution ex;
  ex.tasks.push_back(task("1", "a"));
  ex.tasks.push_back(task("2", "b"));
  REQUIRE(ex.find_task("2"));
  CHECK(ex.find_task("2")->name == "b");
  CHECK(ex.last_task_named("a")->id == "1");
  CHECK_FALSE(ex.find_task("3"));
  CHECK_FALSE(ex.last_task_named("c"));

  ex.tasks.push_back(task("3", "a")); // a second run of a
  ex.tasks.push_back(task("4", "c"));
  CHECK(ex.last_task_named("a")->id == "3");
  CHECK(ex.find_task("1")->name == "a");
  CHECK(ex.last_task_named("c")->id == "4");
  CHECK(ex.find_task("4") == &ex.tasks.back());
}

TEST_CASE("a copied or reloaded execution finds its own tasks") {
  execution ex;
  ex.tasks.push_back(task("1", "a"));
  CHECK(ex.find_task("1"));
  execution copy = ex;
  CHECK(copy.find_task("1") == &copy.tasks.front());

  ex.tasks.clear(); // as a reload does
  ex.tasks.push_back(task("9", "z"));
  CHECK_FALSE(ex.find_task("1"));
  CHECK_FALSE(ex.last_task_named("a"));
  CHECK(ex.find_task("9")->name == "z");

  ex.tasks = {task("5", "a"), task("6", "a")}; // same count, other tasks
  ex.tasks.pop_back();
  ex.tasks.push_back(task("7", "b"));
  CHECK(ex.last_task_named("a")->id == "5");
  CHECK(ex.find_task("7")->name == "b");
}

TEST_CASE("tasks replaced by as many others are still found") {
  execution ex;
  ex.tasks.push_back(task("1", "a"));
  CHECK(ex.find_task("1"));
  ex.tasks = {task("2", "b")};
  CHECK(ex.find_task("2")->name == "b");
  CHECK(ex.last_task_named("b")->id == "2");
  CHECK_FALSE(ex.find_task("1"));
}

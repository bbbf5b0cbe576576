#include "actors/cron/cron_schedule.hpp"

#include <doctest/doctest.h>

using namespace mistral;

namespace {

timestamp at(const std::string& text) {
  timestamp t = 0;
  REQUIRE(parse_time(text, t));
  return t;
}

std::string message_of(const cron::trigger_request& req, timestamp now) {
  auto r = cron::plan_new_trigger(req, now);
  REQUIRE_FALSE(r.ok());
  return r.err().message;
}

} // namespace

TEST_CASE("a pattern trigger starts at the pattern's next time and keeps its count") {
  auto t = cron::plan_new_trigger({"0 5 * * *", std::nullopt, 2}, at("2026-11-29 07:21:47"));
  REQUIRE(t.ok());
  CHECK(t->pattern == "0 5 * * *");
  CHECK(format_time(t->next_execution_time) == "2026-11-30 05:00:00");
  CHECK_FALSE(t->first_execution_time);
  CHECK(t->remaining_executions == 2);
}

TEST_CASE("a first time alone gives Mistral's never pattern and one execution") {
  auto t =
    cron::plan_new_trigger({std::nullopt, "2099-06-01 10:30", std::nullopt}, at("2026-11-29 07:00:00"));
  REQUIRE(t.ok());
  CHECK(t->pattern == "0 0 30 2 0");
  CHECK(format_time(t->next_execution_time) == "2099-06-01 10:30:00");
  CHECK(format_time(*t->first_execution_time) == "2099-06-01 10:30:00");
  CHECK(t->remaining_executions == 1);
  auto with_pattern =
    cron::plan_new_trigger({"0 12 * * 1", "2099-12-31 23:00", 3}, at("2026-11-29 07:00:00"));
  REQUIRE(with_pattern.ok());
  CHECK(format_time(with_pattern->next_execution_time) == "2099-12-31 23:00:00");
  CHECK(with_pattern->remaining_executions == 3);
}

TEST_CASE("create requests are validated in Mistral's order with its messages") {
  const timestamp now = at("2026-11-29 12:00:00");
  CHECK(message_of({std::nullopt, std::nullopt, std::nullopt}, now) ==
        "Pattern or first_execution_time must be specified.");
  CHECK(message_of({std::nullopt, "2026-11-29 12:00", std::nullopt}, now) ==
        "first_execution_time must be at least 1 minute in the future.");
  CHECK(message_of({std::nullopt, "2099-01-01 00:00", 3}, now) ==
        "Pattern must be provided if count is superior to 1.");
  CHECK(message_of({"not a cron", std::nullopt, std::nullopt}, now) ==
        "The specified pattern is not valid: not a cron");
  CHECK(message_of({"* * * * *", "bad", std::nullopt}, now) ==
        "time data 'bad' does not match format '%Y-%m-%d %H:%M'");
  CHECK(message_of({"* * * * *", "2099-01-01 00:00:30", std::nullopt}, now) ==
        "unconverted data remains: :30");
  CHECK(message_of({"0 0 30 2 *", std::nullopt, std::nullopt}, now) == "failed to find next date");
}

TEST_CASE("a trigger is due two seconds ahead of its time") {
  cron::trigger_slot slot{"* * * * *", at("2026-11-29 12:39:00"), std::nullopt};
  CHECK_FALSE(cron::is_due(slot, at("2026-11-29 12:38:58")));
  CHECK(cron::is_due(slot, at("2026-11-29 12:38:58") + 1));
}

TEST_CASE("claiming a slot moves the trigger on and counts down, the last one deletes it") {
  cron::trigger_slot slot{"* * * * *", at("2026-11-29 12:39:00"), 2};
  auto first = cron::plan_claim(slot, at("2026-11-29 12:38:58"));
  REQUIRE(first.ok());
  CHECK_FALSE(first->remove);
  CHECK(format_time(first->next_execution_time) == "2026-11-29 12:40:00");
  CHECK(first->remaining_executions == 1);
  slot.next_execution_time = first->next_execution_time;
  slot.remaining_executions = first->remaining_executions;
  auto last = cron::plan_claim(slot, at("2026-11-29 12:39:58"));
  REQUIRE(last.ok());
  CHECK(last->remove);
}

TEST_CASE("an unlimited trigger stays unlimited, and a late scheduler skips the missed slots") {
  cron::trigger_slot slot{"*/5 * * * *", at("2026-11-29 12:00:00"), std::nullopt};
  auto claim = cron::plan_claim(slot, at("2026-11-29 13:02:10"));
  REQUIRE(claim.ok());
  CHECK_FALSE(claim->remove);
  CHECK_FALSE(claim->remaining_executions);
  CHECK(format_time(claim->next_execution_time) == "2026-11-29 13:05:00");
}

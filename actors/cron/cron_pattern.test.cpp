#include "actors/cron/cron_pattern.hpp"

#include <doctest/doctest.h>

using namespace mistral;

namespace {

timestamp at(const std::string& text) {
  timestamp t = 0;
  REQUIRE(parse_time(text, t));
  return t;
}

struct next_case {
  const char* pattern;
  const char* first;
  const char* second;
};

// Expected times from croniter 1.3.5 (Mistral 15's), started at 2026-11-29 12:38:40.
const next_case croniter_cases[] = {
  {"* * * * *", "2026-11-29 12:39:00", "2026-11-29 12:40:00"},
  {"*/5 * * * *", "2026-11-29 12:40:00", "2026-11-29 12:45:00"},
  {"0 5 * * *", "2026-11-30 05:00:00", "2026-12-01 05:00:00"},
  {"0 0 1 1 *", "2027-01-01 00:00:00", "2028-01-01 00:00:00"},
  {"0 12 * * 1", "2026-11-30 12:00:00", "2026-12-07 12:00:00"},
  {"@hourly", "2026-11-29 13:00:00", "2026-11-29 14:00:00"},
  {"@weekly", "2026-12-06 00:00:00", "2026-12-13 00:00:00"},
  {"0 0 * * * 30", "2026-11-30 00:00:30", "2026-12-01 00:00:30"},
  {"0 0 l * *", "2026-11-30 00:00:00", "2026-12-31 00:00:00"},
  {"0 0 * * mon#2", "2026-12-14 00:00:00", "2027-01-11 00:00:00"},
  {"0 0 * * l5", "2026-12-25 00:00:00", "2027-01-29 00:00:00"},
  {"0 0 * * 7", "2026-12-06 00:00:00", "2026-12-13 00:00:00"},
  {"0 0 * * 5-0", "2026-12-04 00:00:00", "2026-12-05 00:00:00"},
  {"0 0 13 * 5", "2026-12-04 00:00:00", "2026-12-11 00:00:00"},
  {"1/15 * * * *", "2026-11-29 12:46:00", "2026-11-29 13:01:00"},
  {"0 0 29 2 *", "2028-02-29 00:00:00", "2032-02-29 00:00:00"},
  {"0 9-17/4 * jan-mar,dec *", "2026-12-01 09:00:00", "2026-12-01 13:00:00"},
  {"*/10 * * * * */20", "2026-11-29 12:40:00", "2026-11-29 12:40:20"},
  {"0 0 31 * *", "2026-12-31 00:00:00", "2027-01-31 00:00:00"},
  {"15 3 * * sun", "2026-12-06 03:15:00", "2026-12-13 03:15:00"},
};

} // namespace

TEST_CASE("next fire times match croniter's for Mistral's pattern syntax") {
  for (const auto& c : croniter_cases) {
    CAPTURE(c.pattern);
    auto first = cron::next_fire_time(c.pattern, at("2026-11-29 12:38:40"));
    REQUIRE(first.ok());
    CHECK(format_time(*first) == c.first);
    auto second = cron::next_fire_time(c.pattern, *first);
    REQUIRE(second.ok());
    CHECK(format_time(*second) == c.second);
  }
}

TEST_CASE("the next time is strictly after the start, to the minute for five fields") {
  CHECK(format_time(*cron::next_fire_time("0 * * * *", at("2026-11-29 12:00:00"))) == "2026-11-29 13:00:00");
  CHECK(format_time(*cron::next_fire_time("* * * * *", at("2026-11-29 12:00:59"))) == "2026-11-29 12:01:00");
  CHECK(format_time(*cron::next_fire_time("* * * * * *", at("2026-11-29 12:00:59"))) ==
        "2026-11-29 12:01:00");
}

TEST_CASE("patterns croniter refuses are invalid") {
  for (const char* bad : {"not a pattern", "not a cron", "60 0 * * *", "* 24 * * *", "0 0 0 * *", "0 0 * 0 *",
                          "0 0 * * 8", "-1 * * * *", "5-1 * * * *", "*/0 * * * *", "h * * * *", "0 0 * * 1#6",
                          "0 0 * * mon#2,tue", "0 0 * * 1 2 3", "* * * *", "", "0 0 * foo *", "1, * * * *"}) {
    CAPTURE(bad);
    CHECK_FALSE(cron::parse_cron(bad).ok());
  }
  for (const char* good : {"0 0 30 2 0", "@Daily", "  1  2 * * *", "r * * * *", "*,5 * * * *", "0 0 1,l * *",
                           "0 0 * * sun-sat", "0 0 0 * * 5"}) {
    CAPTURE(good);
    CHECK(cron::parse_cron(good).ok());
  }
}

TEST_CASE("a pattern that never matches has no next time, as croniter's 'failed to find next date'") {
  auto never = cron::next_fire_time("0 0 30 2 *", at("2026-11-29 12:38:40"));
  REQUIRE_FALSE(never.ok());
  CHECK(never.err().message == "failed to find next date");
  // Both day fields restricted: croniter fails on the day-of-month branch first.
  CHECK_FALSE(cron::next_fire_time("0 0 30 2 0", at("2026-11-29 12:38:40")).ok());
}

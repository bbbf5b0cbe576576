#include "common/clock.hpp"

#include <doctest/doctest.h>

using namespace mistral;

TEST_CASE("times print as Mistral prints them") {
  CHECK(format_time(0) == "1970-01-01 00:00:00");
  CHECK(format_time(1795935911000000) == "2026-11-29 07:05:11");
}

TEST_CASE("parse_time reads minutes, seconds and fractions") {
  timestamp t = 0;
  REQUIRE(parse_time("2026-11-29 07:05", t));
  CHECK(format_time(t) == "2026-11-29 07:05:00");
  REQUIRE(parse_time("2026-11-29 07:05:11.250000", t));
  CHECK(t % 1000000 == 250000);
  CHECK_FALSE(parse_time("not a time", t));
  CHECK_FALSE(parse_time("2026-13-01 00:00", t));
}

TEST_CASE("the manual clock moves only when told") {
  manual_clock c(10);
  CHECK(c.now() == 10);
  c.advance(std::chrono::seconds(1));
  CHECK(c.now() == 1000010);
}

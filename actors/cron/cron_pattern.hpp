#pragma once

// Cron patterns as Mistral reads them through croniter 1.3.5: five fields
// (minute hour day-of-month month day-of-week) or six (plus seconds), the
// @hourly/@daily/... aliases, lists, ranges, steps, month and weekday
// names, `l` (last day of the month), `x#n` and `lx` (n-th / last weekday x
// of the month) and `r` (a random value). Pure: no clock, no I/O.

#include "common/clock.hpp"
#include "common/error.hpp"

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace mistral::cron {

/// A parsed pattern. A field whose `any` flag is set matches every value.
struct cron_pattern {
  struct field {
    bool any = false;
    std::set<int> values;
  };
  std::string text;
  bool has_seconds = false;
  field minute, hour, day_of_month, month, day_of_week, second;
  bool last_day_of_month = false; ///< `l` in the day-of-month field
  /// weekday (0 = Sunday) -> the n-th occurrences wanted (1..5; -1 = the last)
  std::map<int, std::set<int>> nth_weekday;
};

/// Parses `text` as croniter does; the error says why it is not valid.
result<cron_pattern> parse_cron(const std::string& text);

/// The first time strictly after `after` (to the minute, or to the second
/// for six fields) that the pattern matches, as croniter's get_next.
/// When both day fields are restricted either may match (cron's day OR).
/// errc::internal "failed to find next date" when nothing matches within
/// 50 years (croniter's CroniterBadDateError).
result<timestamp> next_fire_time(const cron_pattern& p, timestamp after);

/// Parses and returns the next time in one step.
result<timestamp> next_fire_time(const std::string& pattern, timestamp after);

} // namespace mistral::cron

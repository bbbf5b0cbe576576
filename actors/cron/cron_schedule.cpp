#include "actors/cron/cron_schedule.hpp"

#include "actors/cron/cron_pattern.hpp"

#include <algorithm>
#include <regex>

namespace mistral::cron {

namespace {

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

int month_days(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

} // namespace

result<timestamp> parse_first_time(const std::string& text) {
  static const std::regex format(R"(^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}))");
  const std::string no_match = "time data '" + text + "' does not match format '%Y-%m-%d %H:%M'";
  std::smatch m;
  if (!std::regex_search(text, m, format))
    return error(errc::invalid_input, no_match);
  int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]), h = std::stoi(m[4]),
      mi = std::stoi(m[5]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
    return error(errc::invalid_input, no_match);
  if (m.length(0) != static_cast<std::ptrdiff_t>(text.size()))
    return error(errc::invalid_input, "unconverted data remains: " + text.substr(m.length(0)));
  if (d > month_days(y, mo))
    return error(errc::invalid_input, "day is out of range for month");
  std::int64_t seconds =
    days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60;
  return seconds * 1000000;
}

result<trigger_times> plan_new_trigger(const trigger_request& req, timestamp now) {
  std::optional<timestamp> first;
  if (req.first_time) {
    auto parsed = parse_first_time(*req.first_time);
    if (!parsed.ok())
      return std::move(parsed).err();
    first = *parsed;
  }
  bool has_pattern = req.pattern && !req.pattern->empty();
  if (!first && !has_pattern)
    return error(errc::invalid_input, "Pattern or first_execution_time must be specified.");
  if (first) {
    if (now + 60 * 1000000 > *first)
      return error(errc::invalid_input, "first_execution_time must be at least 1 minute in the future.");
    if (!has_pattern && req.count && *req.count > 1)
      return error(errc::invalid_input, "Pattern must be provided if count is superior to 1.");
  }
  std::optional<cron_pattern> parsed;
  if (has_pattern) {
    auto p = parse_cron(*req.pattern);
    if (!p.ok())
      return error(errc::invalid_input, "The specified pattern is not valid: " + *req.pattern);
    parsed = std::move(*p);
  }
  trigger_times out;
  out.pattern = has_pattern ? *req.pattern : never_pattern;
  out.first_execution_time = first;
  out.remaining_executions = req.count;
  if (first) {
    out.next_execution_time = *first;
    if (!has_pattern && !req.count)
      out.remaining_executions = 1;
  } else {
    auto next = next_fire_time(*parsed, now);
    if (!next.ok())
      return std::move(next).err();
    out.next_execution_time = *next;
  }
  return out;
}

bool is_due(const trigger_slot& t, timestamp now) {
  return t.next_execution_time < now + due_ahead;
}

result<slot_claim> plan_claim(const trigger_slot& t, timestamp now) {
  slot_claim c;
  c.remaining_executions = t.remaining_executions;
  if (c.remaining_executions && *c.remaining_executions > 0)
    --*c.remaining_executions;
  if (c.remaining_executions && *c.remaining_executions == 0) {
    c.remove = true;
    return c;
  }
  auto next = next_fire_time(t.pattern, std::max(now, t.next_execution_time));
  if (!next.ok())
    return std::move(next).err();
  c.next_execution_time = *next;
  return c;
}

} // namespace mistral::cron

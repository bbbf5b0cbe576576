#pragma once

// When cron triggers fire, as data: the times a new trigger gets
// (triggers.create_cron_trigger) and what a due trigger becomes once its
// slot is claimed (periodic.advance_cron_trigger). Pure: the clock's time
// is passed in.

#include "common/clock.hpp"
#include "common/error.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace mistral::cron {

/// The pattern Mistral stores when only a first time is given ("never").
inline constexpr const char* never_pattern = "0 0 30 2 0";

/// Cron triggers are picked up this long before their time (Mistral polls
/// for next_execution_time < now + 2 s).
inline constexpr timestamp due_ahead = 2 * 1000000;

/// What a create request asks for.
struct trigger_request {
  std::optional<std::string> pattern;
  std::optional<std::string> first_time; ///< "YYYY-MM-DD HH:MM" (UTC)
  std::optional<std::int64_t> count;     ///< remaining_executions
};

/// The schedule columns of a new trigger.
struct trigger_times {
  std::string pattern; ///< never_pattern when only a first time was given
  std::optional<timestamp> first_execution_time;
  timestamp next_execution_time = 0;
  std::optional<std::int64_t> remaining_executions;
};

/// Validates a create request as Mistral does, with its messages
/// (errc::invalid_input), and computes the trigger's times at `now`.
/// A pattern that never matches is errc::internal "failed to find next date".
result<trigger_times> plan_new_trigger(const trigger_request& req, timestamp now);

/// The schedule state of a stored trigger.
struct trigger_slot {
  std::string pattern;
  timestamp next_execution_time = 0;
  std::optional<std::int64_t> remaining_executions;
};

/// True when the trigger's slot is due at `now`.
bool is_due(const trigger_slot& t, timestamp now);

/// What claiming a due slot writes: delete the trigger (its last
/// execution), or move it to its next time (never earlier than `now`, so a
/// lagging scheduler does not fire a burst of missed slots).
struct slot_claim {
  bool remove = false;
  timestamp next_execution_time = 0;
  std::optional<std::int64_t> remaining_executions;
};

result<slot_claim> plan_claim(const trigger_slot& t, timestamp now);

/// Parses Python's strptime(text, '%Y-%m-%d %H:%M') with its messages
/// ("time data 'x' does not match format '%Y-%m-%d %H:%M'",
/// "unconverted data remains: :30").
result<timestamp> parse_first_time(const std::string& text);

} // namespace mistral::cron

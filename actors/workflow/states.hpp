#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mistral::engine {

/// Mistral's execution states (mistral/workflow/states.py).
enum class state { idle, waiting, running, delayed, paused, success, cancelled, error };

/// Mistral's name of `s`: "IDLE", "RUNNING_DELAYED" is printed "DELAYED", ...
const char* to_string(state s) noexcept;
std::optional<state> state_from_string(std::string_view text) noexcept;

/// SUCCESS, ERROR or CANCELLED.
bool is_completed(state s) noexcept;
/// IDLE, RUNNING, WAITING, DELAYED or PAUSED: what the completion check counts.
bool is_incomplete(state s) noexcept;
/// RUNNING or DELAYED.
bool is_running(state s) noexcept;
bool is_paused_or_completed(state s) noexcept;

/// Mistral's _VALID_TRANSITIONS table; a same-to-same transition is valid.
bool is_valid_transition(state from, state to) noexcept;

} // namespace mistral::engine

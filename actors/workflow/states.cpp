#include "actors/workflow/states.hpp"

namespace mistral::engine {

const char* to_string(state s) noexcept {
  switch (s) {
    case state::idle: return "IDLE";
    case state::waiting: return "WAITING";
    case state::running: return "RUNNING";
    case state::delayed: return "DELAYED";
    case state::paused: return "PAUSED";
    case state::success: return "SUCCESS";
    case state::cancelled: return "CANCELLED";
    case state::error: return "ERROR";
  }
  return "?";
}

std::optional<state> state_from_string(std::string_view t) noexcept {
  for (state s : {state::idle, state::waiting, state::running, state::delayed, state::paused, state::success,
                  state::cancelled, state::error})
    if (t == to_string(s))
      return s;
  if (t == "RUNNING_DELAYED")
    return state::delayed;
  return std::nullopt;
}

bool is_completed(state s) noexcept {
  return s == state::success || s == state::error || s == state::cancelled;
}

bool is_incomplete(state s) noexcept {
  return !is_completed(s);
}

bool is_running(state s) noexcept {
  return s == state::running || s == state::delayed;
}

bool is_paused_or_completed(state s) noexcept {
  return s == state::paused || is_completed(s);
}

bool is_valid_transition(state from, state to) noexcept {
  if (from == to)
    return true;
  switch (from) {
    case state::idle: return to == state::running || to == state::error || to == state::cancelled;
    case state::waiting: return to == state::running;
    case state::running:
      return to == state::paused || to == state::delayed || to == state::success || to == state::error ||
             to == state::cancelled;
    case state::delayed: return to == state::running || to == state::error || to == state::cancelled;
    case state::paused: return to == state::running || to == state::error || to == state::cancelled;
    case state::success: return false;
    case state::cancelled: return to == state::running;
    case state::error: return to == state::running;
  }
  return false;
}

} // namespace mistral::engine

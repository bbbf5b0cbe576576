#pragma once

// What the std action families share: Mistral's exception texts, cancellable
// sleeps, Python conversions and the family entry points. No CAF here.

#include "actors/action/std_actions.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mistral::action::detail {

/// An exception raised by an action's run(): the executor turns its text into
/// "The action raised an exception [...]".
struct action_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Python's `type(v).__name__` for a JSON value (NoneType, bool, int, ...).
std::string py_type_name(const json& v);

/// True once `cancel` is set (a null flag is never set).
bool cancelled(const std::atomic<bool>* cancel) noexcept;

/// Sleeps `seconds`, waking every 50 ms to poll `cancel`; false when cancelled.
bool cancellable_sleep(double seconds, const std::atomic<bool>* cancel);

/// input[key] when present, else `fallback` (Mistral applies defaults on missing keys only).
json arg(const json& input, const char* key, json fallback = nullptr);

/// The bytes as valid UTF-8: invalid sequences become U+FFFD, so the text can be dumped.
std::string valid_utf8(std::string_view bytes);

/// ISO-8859-1 bytes as UTF-8.
std::string latin1_to_utf8(std::string_view bytes);

/// Standard base64 without line breaks.
std::string base64_encode(std::string_view bytes);

/// The result of a run cut short by `cancel`.
inline action_result cancelled_result() {
  return {action_result::kind::cancelled, nullptr, nullptr};
}

// Family entry points: they return results, or throw action_error for what
// Mistral's action raises.
action_result run_http(const json& input, const action_context& ctx, const std::atomic<bool>* cancel);
action_result run_mistral_http(const json& input, const action_context& ctx, const std::atomic<bool>* cancel);
action_result run_ssh(const json& input, const action_context& ctx, const std::atomic<bool>* cancel);
action_result run_ssh_proxied(const json& input, const action_context& ctx, const std::atomic<bool>* cancel);
action_result run_email(const json& input, const action_context& ctx, const std::atomic<bool>* cancel);
action_result run_javascript(const json& input, const action_context& ctx, const std::atomic<bool>* cancel);

} // namespace mistral::action::detail

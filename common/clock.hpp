#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mistral {

/// Wall-clock time as microseconds since the Unix epoch (UTC).
using timestamp = std::int64_t;

/// The source of time. The engine core never reads the system clock
/// directly; tests pass a manual_clock.
class clock {
public:
  virtual ~clock() = default;
  virtual timestamp now() const = 0;
};

/// The real clock.
class system_clock final : public clock {
public:
  timestamp now() const override;
};

/// A clock that moves only when told to; for tests.
class manual_clock final : public clock {
public:
  explicit manual_clock(timestamp start = 0) : now_(start) {}
  timestamp now() const override { return now_; }
  void advance(std::chrono::microseconds by) { now_ += by.count(); }
  void set(timestamp t) { now_ = t; }

private:
  timestamp now_;
};

/// Formats `t` the way Mistral prints times: "YYYY-MM-DD HH:MM:SS" (UTC).
std::string format_time(timestamp t);

/// Parses "YYYY-MM-DD HH:MM[:SS[.ffffff]]" (UTC). Returns false when malformed.
bool parse_time(const std::string& text, timestamp& out);

} // namespace mistral

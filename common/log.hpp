#pragma once

#include <string_view>

namespace mistral::log {

enum class level { debug, info, warning, error };

/// Messages below this level are dropped. Default: info.
void set_level(level l) noexcept;

/// Writes one line "YYYY-MM-DD HH:MM:SS.mmm LEVEL component: message" to stderr.
void write(level l, std::string_view component, std::string_view message);

inline void debug(std::string_view c, std::string_view m) {
  write(level::debug, c, m);
}
inline void info(std::string_view c, std::string_view m) {
  write(level::info, c, m);
}
inline void warning(std::string_view c, std::string_view m) {
  write(level::warning, c, m);
}
inline void error(std::string_view c, std::string_view m) {
  write(level::error, c, m);
}

} // namespace mistral::log

#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace mistral::log {

namespace {

std::atomic<level> threshold{level::info};
std::mutex write_mutex;

const char* name_of(level l) {
  switch (l) {
    case level::debug: return "DEBUG";
    case level::info: return "INFO";
    case level::warning: return "WARNING";
    case level::error: return "ERROR";
  }
  return "?";
}

} // namespace

void set_level(level l) noexcept {
  threshold = l;
}

void write(level l, std::string_view component, std::string_view message) {
  if (l < threshold.load())
    return;
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t secs = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  std::lock_guard<std::mutex> guard(write_mutex);
  std::fprintf(stderr, "%s.%03d %s %.*s: %.*s\n", stamp, static_cast<int>(ms), name_of(l),
               static_cast<int>(component.size()), component.data(), static_cast<int>(message.size()),
               message.data());
}

} // namespace mistral::log

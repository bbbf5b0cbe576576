#include "common/clock.hpp"

#include <cstdio>
#include <ctime>

namespace mistral {

timestamp system_clock::now() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string format_time(timestamp t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000000);
  if (t < 0 && t % 1000000 != 0)
    --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool parse_time(const std::string& text, timestamp& out) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, consumed = 0;
  int n =
    std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d%n:%2d%n", &y, &mo, &d, &h, &mi, &consumed, &s, &consumed);
  if (n < 5 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return false;
  long micros = 0;
  if (static_cast<std::size_t>(consumed) < text.size()) {
    if (text[consumed] != '.')
      return false;
    std::string frac = text.substr(consumed + 1);
    if (frac.empty() || frac.size() > 6 || frac.find_first_not_of("0123456789") != std::string::npos)
      return false;
    frac.resize(6, '0');
    micros = std::stol(frac);
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  out = static_cast<timestamp>(timegm(&tm)) * 1000000 + micros;
  return true;
}

} // namespace mistral

// yaql's date_time.py: datetime and timespan values, their properties and
// operators.

#include "dsl/expr/yaql_lib.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <regex>

namespace mistral::expr::yaql::lib {

namespace {

constexpr std::int64_t us_per_sec = 1'000'000;
constexpr std::int64_t us_per_day = 86'400'000'000LL;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

value timespan_arg_or_zero(call_args& c, std::size_t i, std::string_view name) {
  value v = c.size() > i ? c.get(i) : c.named(name) ? c.named_value(name) : value::timespan(0);
  if (!v.is(kind::timespan))
    throw no_match{};
  return v;
}

std::int64_t wall_from_parts(std::int64_t y, std::int64_t mo, std::int64_t d, std::int64_t h, std::int64_t mi,
                             std::int64_t s, std::int64_t us) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1 || y > 9999)
    fail("year " + std::to_string(y) + " is out of range");
  if (mo < 1 || mo > 12)
    fail("month must be in 1..12");
  if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap))
    fail("day is out of range for month");
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || us < 0 || us > 999999)
    fail("time component out of range");
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * us_per_day + ((h * 60 + mi) * 60 + s) * us_per_sec + us;
}

value build_datetime(call_args& c) {
  static const char* names[] = {"year", "month", "day", "hour", "minute", "second", "microsecond"};
  std::int64_t parts[7] = {0, 0, 0, 0, 0, 0, 0};
  for (std::size_t i = 0; i < 7; ++i) {
    value v = i < c.size() ? c.get(i) : c.named_value(names[i]);
    if (v.is_null()) {
      if (i < 3)
        throw no_match{};
      continue;
    }
    if (!v.is(kind::integer))
      throw no_match{};
    parts[i] = v.as_int();
  }
  value off = timespan_arg_or_zero(c, 7, "offset");
  return value::datetime(
    wall_from_parts(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6]), off.micros());
}

/// dateutil's parser for the ISO-like forms workflows use.
value parse_datetime(const std::string& s) {
  static const std::regex iso(
    R"(^\s*(\d{4})-?(\d{1,2})-?(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$)");
  std::smatch m;
  if (!std::regex_match(s, m, iso))
    fail("Unknown string format: " + s);
  auto num = [&](int i) { return m[i].matched ? std::stoll(m[i].str()) : 0LL; };
  std::int64_t us = 0;
  if (m[7].matched) {
    std::string frac = m[7].str();
    frac.resize(6, '0');
    us = std::stoll(frac);
  }
  std::int64_t off = 0;
  if (m[8].matched && m[8].str() != "Z") {
    std::string z = m[8].str();
    std::string digits;
    for (char ch : z)
      if (std::isdigit(static_cast<unsigned char>(ch)))
        digits += ch;
    off = (std::stoll(digits.substr(0, 2)) * 3600 + std::stoll(digits.substr(2, 2)) * 60) * us_per_sec;
    if (z[0] == '-')
      off = -off;
  }
  return value::datetime(wall_from_parts(num(1), num(2), num(3), num(4), num(5), num(6), us), off);
}

value datetime_from_format(const std::string& s, const std::string& fmt) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), fmt.c_str(), &tm);
  if (!end || *end != '\0')
    fail("time data '" + s + "' does not match format '" + fmt + "'");
  return value::datetime(
    wall_from_parts(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, 0), 0);
}

value fn_datetime(call_args& c) {
  value first = c.size() > 0 ? c.get(0) : value();
  if (first.is(kind::string)) {
    arity(c, 1, 2);
    value fmt = c.size() > 1 ? c.get(1) : c.named_value("format");
    if (truthy(fmt))
      return datetime_from_format(std::string(first.as_str()), std::string(fmt.as_str()));
    return parse_datetime(std::string(first.as_str()));
  }
  if ((first.is_number() && c.size() <= 2 && (c.size() < 2 || c.get(1).is(kind::timespan))) ||
      (c.size() == 0 && c.named("timestamp"))) {
    value ts = first.is_number() ? first : c.named_value("timestamp");
    if (!ts.is_number())
      throw no_match{};
    value off = timespan_arg_or_zero(c, 1, "offset");
    auto us = static_cast<std::int64_t>(std::llround(ts.as_float() * 1e6));
    return value::datetime(us + off.micros(), off.micros());
  }
  return build_datetime(c);
}

value fn_timespan(call_args& c) {
  static const char* names[] = {"days", "hours", "minutes", "seconds", "milliseconds", "microseconds"};
  static const double scale[] = {86400e6, 3600e6, 60e6, 1e6, 1e3, 1};
  double total = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    value v = i < c.size() ? c.get(i) : c.named_value(names[i]);
    if (v.is_null())
      continue;
    if (!v.is_number())
      throw no_match{};
    total += v.as_float() * scale[i];
  }
  return value::timespan(static_cast<std::int64_t>(std::llround(total)));
}

value fn_now(call_args& c) {
  arity(c, 0, 1);
  value off = timespan_arg_or_zero(c, 0, "offset");
  auto now =
    std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
  return value::datetime(now + off.micros(), off.micros());
}

value fn_localtz(call_args& c) {
  arity(c, 0, 0);
  std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  return value::timespan(local.tm_gmtoff * us_per_sec);
}

value fn_utctz(call_args& c) {
  arity(c, 0, 0);
  return value::timespan(0);
}

value fn_is_datetime(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is(kind::datetime));
}

value fn_is_timespan(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is(kind::timespan));
}

value fn_dt_replace(call_args& c) {
  value dt = c.get(0);
  if (!dt.is(kind::datetime))
    throw no_match{};
  std::int64_t days = floor_div(dt.micros(), us_per_day);
  std::int64_t rest = dt.micros() - days * us_per_day;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  std::int64_t parts[7] = {
    y, m, d, rest / 3'600'000'000LL, rest / 60'000'000 % 60, rest / us_per_sec % 60, rest % us_per_sec};
  static const char* names[] = {"year", "month", "day", "hour", "minute", "second", "microsecond"};
  for (std::size_t i = 0; i < 7; ++i) {
    value v = i + 1 < c.size() ? c.get(i + 1) : c.named_value(names[i]);
    if (v.is(kind::integer))
      parts[i] = v.as_int();
  }
  value off = c.named("offset") ? c.named_value("offset") : value::timespan(dt.offset_micros());
  return value::datetime(
    wall_from_parts(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6]), off.micros());
}

value fn_dt_format(call_args& c) {
  arity(c, 2, 2);
  value dt = c.get(0);
  if (!dt.is(kind::datetime))
    throw no_match{};
  std::string fmt = str_arg(c, 1);
  std::int64_t days = floor_div(dt.micros(), us_per_day);
  std::int64_t rest = dt.micros() - days * us_per_day;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  std::tm tm{};
  tm.tm_year = static_cast<int>(y - 1900);
  tm.tm_mon = static_cast<int>(m - 1);
  tm.tm_mday = static_cast<int>(d);
  tm.tm_hour = static_cast<int>(rest / 3'600'000'000LL);
  tm.tm_min = static_cast<int>(rest / 60'000'000 % 60);
  tm.tm_sec = static_cast<int>(rest / us_per_sec % 60);
  tm.tm_wday = static_cast<int>((days % 7 + 11) % 7);
  char buf[512];
  std::size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
  return value::string(std::string(buf, n));
}

} // namespace

std::optional<value> datetime_property(const value& v, const std::string& name) {
  if (v.is(kind::timespan)) {
    double us = static_cast<double>(v.micros());
    if (name == "microseconds")
      return value::integer(v.micros());
    if (name == "milliseconds")
      return value::floating(us / 1000.0);
    if (name == "seconds")
      return value::floating(us / 1e6);
    if (name == "minutes")
      return value::floating(us / 6e7);
    if (name == "hours")
      return value::floating(us / 3.6e9);
    if (name == "days")
      return value::floating(us / 8.64e10);
    return std::nullopt;
  }
  if (!v.is(kind::datetime))
    return std::nullopt;
  std::int64_t days = floor_div(v.micros(), us_per_day);
  std::int64_t rest = v.micros() - days * us_per_day;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (name == "year")
    return value::integer(y);
  if (name == "month")
    return value::integer(m);
  if (name == "day")
    return value::integer(d);
  if (name == "hour")
    return value::integer(rest / 3'600'000'000LL);
  if (name == "minute")
    return value::integer(rest / 60'000'000 % 60);
  if (name == "second")
    return value::integer(rest / us_per_sec % 60);
  if (name == "microsecond")
    return value::integer(rest % us_per_sec);
  if (name == "weekday")
    return value::integer(((days % 7) + 10) % 7); // 1970-01-01 was a Thursday (3)
  if (name == "offset")
    return value::timespan(v.offset_micros());
  if (name == "date")
    return value::datetime(days * us_per_day, v.offset_micros());
  if (name == "time")
    return value::timespan(rest);
  if (name == "utc")
    return value::datetime(v.micros() - v.offset_micros(), 0);
  if (name == "timestamp")
    return value::floating(static_cast<double>(v.micros() - v.offset_micros()) / 1e6);
  return std::nullopt;
}

std::optional<value> datetime_binary(const std::string& op, const value& a, const value& b) {
  bool adt = a.is(kind::datetime), bdt = b.is(kind::datetime);
  bool ats = a.is(kind::timespan), bts = b.is(kind::timespan);
  auto instant = [](const value& v) { return v.micros() - v.offset_micros(); };
  if (op == "+") {
    if (adt && bts)
      return value::datetime(a.micros() + b.micros(), a.offset_micros());
    if (ats && bdt)
      return value::datetime(b.micros() + a.micros(), b.offset_micros());
    if (ats && bts)
      return value::timespan(a.micros() + b.micros());
  }
  if (op == "-") {
    if (adt && bts)
      return value::datetime(a.micros() - b.micros(), a.offset_micros());
    if (adt && bdt)
      return value::timespan(instant(a) - instant(b));
    if (ats && bts)
      return value::timespan(a.micros() - b.micros());
  }
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    std::int64_t x, y;
    if (adt && bdt) {
      x = instant(a);
      y = instant(b);
    } else if (ats && bts) {
      x = a.micros();
      y = b.micros();
    } else {
      return std::nullopt;
    }
    return value::boolean(op == "<" ? x < y : op == ">" ? x > y : op == "<=" ? x <= y : x >= y);
  }
  if (op == "*") {
    if (ats && b.is_number())
      return value::timespan(
        static_cast<std::int64_t>(std::llround(static_cast<double>(a.micros()) * b.as_float())));
    if (a.is_number() && bts)
      return value::timespan(
        static_cast<std::int64_t>(std::llround(static_cast<double>(b.micros()) * a.as_float())));
  }
  if (op == "/") {
    if (ats && bts) {
      if (b.micros() == 0)
        fail("division by zero");
      return value::floating(static_cast<double>(a.micros()) / static_cast<double>(b.micros()));
    }
    if (ats && b.is_number()) {
      if (b.as_float() == 0)
        fail("division by zero");
      return value::timespan(
        static_cast<std::int64_t>(std::llround(static_cast<double>(a.micros()) / b.as_float())));
    }
  }
  return std::nullopt;
}

void register_datetime(table& t) {
  add(t, "datetime", fn_datetime, true, false);
  add(t, "timespan", fn_timespan, true, false);
  add(t, "now", fn_now, true, false);
  add(t, "localtz", fn_localtz, true, false);
  add(t, "utctz", fn_utctz, true, false);
  add(t, "isDatetime", fn_is_datetime, true, false);
  add(t, "isTimespan", fn_is_timespan, true, false);
  add(t, "replace", fn_dt_replace, false, true);
  add(t, "format", fn_dt_format, false, true);
}

} // namespace mistral::expr::yaql::lib

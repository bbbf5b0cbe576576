#include "actors/cron/cron_pattern.hpp"

#include <algorithm>
#include <cctype>
#include <random>
#include <regex>
#include <sstream>
#include <vector>

namespace mistral::cron {

namespace {

// croniter's RANGES and LEN_MEANS_ALL, by field index (5 = seconds).
constexpr std::array<std::pair<int, int>, 6> ranges = {{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}, {0, 59}}};
constexpr std::array<std::size_t, 6> len_means_all = {60, 24, 31, 12, 7, 60};

error invalid(const std::string& why) {
  return error(errc::invalid_input, why);
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// croniter's ALPHACONV: names of months and weekdays, `l` for the day of month.
std::optional<std::string> alpha(int field, const std::string& key) {
  static const std::map<std::string, int> months = {{"jan", 1}, {"feb", 2},  {"mar", 3},  {"apr", 4},
                                                    {"may", 5}, {"jun", 6},  {"jul", 7},  {"aug", 8},
                                                    {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
  static const std::map<std::string, int> days = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                  {"thu", 4}, {"fri", 5}, {"sat", 6}};
  if (field == 2 && key == "l")
    return key;
  const auto* table = field == 3 ? &months : field == 4 ? &days : nullptr;
  if (!table)
    return std::nullopt;
  auto it = table->find(key);
  return it == table->end() ? std::nullopt : std::optional<std::string>(std::to_string(it->second));
}

std::optional<int> to_int(const std::string& s) {
  if (!all_digits(s) || s.size() > 9)
    return std::nullopt;
  return std::stoi(s);
}

int random_in(int low, int high) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_int_distribution<int>(low, high)(rng);
}

// croniter's HashExpander: `r` takes a random value, `h` needs a hash id
// Mistral never passes, so it is invalid.
result<std::string> expand_random(int field, const std::string& expr) {
  static const std::regex hash_re(R"(^(h|r)(\((\d+)-(\d+)\))?(/(\d+))?$)");
  std::smatch m;
  if (!std::regex_match(expr, m, hash_re))
    return expr;
  if (m[1] == "h")
    return invalid("Hashed definitions must include hash_id");
  auto [lo, hi] = ranges[field];
  bool has_range = m[2].matched, has_divisor = m[5].matched;
  if (has_divisor && std::stoi(m[6]) == 0)
    return invalid("Bad expression: " + expr);
  if (has_range && has_divisor) {
    int divisor = std::stoi(m[6]);
    int first = (divisor >= lo ? random_in(lo, divisor) : lo) + std::stoi(m[3]);
    return std::to_string(first) + "-" + m[4].str() + "/" + m[6].str();
  }
  if (has_range) {
    int a = std::stoi(m[3]), b = std::stoi(m[4]);
    return std::to_string(a <= b ? random_in(a, b) : a);
  }
  if (has_divisor) {
    int divisor = std::stoi(m[6]);
    return std::to_string(divisor >= lo ? random_in(lo, divisor) : lo) + "-" + std::to_string(hi) + "/" +
           m[6].str();
  }
  return std::to_string(random_in(lo, hi));
}

struct field_state {
  std::set<int> values;
  bool star = false;
  bool last = false;
  std::map<int, std::set<int>> nth;
};

// One comma-separated item of field `i`; ranges push their members back on `work`.
status expand_item(int i, std::size_t nfields, std::string e, std::vector<std::string>& work,
                   field_state& st) {
  static const std::regex special_weekday(R"(^(\w+)#(\d+)|^l(\d+)$)");
  static const std::regex star_step(R"(^\*(/.+)$)");
  static const std::regex step_search(R"(^([^-]+)-([^-/]+)(/(\d+))?$)");
  static const std::regex slash(R"(^(.+)/(.+)$)");
  std::optional<int> nth;
  if (i == 4) {
    std::smatch m;
    if (std::regex_search(e, m, special_weekday)) {
      if (m[1].matched) {
        auto n = to_int(m[2]);
        if (!n || *n < 1 || *n > 5)
          return invalid("Invalid day_of_week value: '" + e + "'");
        nth = *n;
        e = m[1];
      } else {
        nth = -1;
        e = m[3];
      }
    }
  }
  auto [lo, hi] = ranges[i];
  std::string t = std::regex_replace(e, star_step, std::to_string(lo) + "-" + std::to_string(hi) + "$1");
  std::smatch m;
  bool ranged = std::regex_match(t, m, step_search);
  if (!ranged && std::regex_match(t, m, slash)) {
    t = m[1].str() + "-" + std::to_string(hi) + "/" + m[2].str();
    ranged = std::regex_match(t, m, step_search);
  }
  if (ranged) {
    std::string low = m[1], high = m[2], step = m[4].matched ? m[4].str() : "1";
    if (i == 2 && high == "l")
      high = "31";
    for (auto* part : {&low, &high}) {
      if (all_digits(*part))
        continue;
      auto named = alpha(i, *part);
      if (!named)
        return invalid("[" + *part + "] is not acceptable");
      *part = *named;
    }
    auto a = to_int(low), b = to_int(high), s = to_int(step);
    if (!a || !b || !s)
      return invalid("not acceptable");
    if (*a > *b) {
      if (i == 4 && *b == 0)
        b = 7;
      else
        return invalid("not acceptable");
    }
    if (std::max(*a, *b) > hi)
      return invalid("out of bands");
    if (*s == 0)
      return invalid("invalid range");
    for (int v = *a; v <= *b; v += *s)
      work.push_back(std::to_string(v) + (i == 4 && nth && *nth > 0 ? "#" + std::to_string(*nth) : ""));
    return ok_v;
  }
  if (!t.empty() && t.front() == '-')
    return invalid("negative numbers not allowed");
  if (t != "*" && !all_digits(t)) {
    auto named = alpha(i, t);
    if (!named)
      return invalid("[" + t + "] is not acceptable");
    t = *named;
  }
  if (t == "*") {
    st.star = true;
    return ok_v;
  }
  if (t == "l") {
    st.last = true;
    return ok_v;
  }
  auto v = to_int(t);
  if (!v)
    return invalid("not acceptable");
  // croniter's LOWMAP, with its exceptions for five and six fields.
  bool keep = ((i == 2 || i == 3) && nfields == 5) || ((i == 3 || i == 4) && nfields == 6);
  if (!keep && (i == 2 || i == 3) && *v == 0)
    v = 1;
  if (!keep && i == 4 && *v == 7)
    v = 0;
  if (*v < lo || *v > hi)
    return invalid("out of range");
  st.values.insert(*v);
  if (i == 4 && nth)
    st.nth[*v].insert(*nth);
  return ok_v;
}

std::vector<std::string> split_on(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep))
    out.push_back(item);
  if (!text.empty() && text.back() == sep)
    out.push_back("");
  return out;
}

// ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ----

struct civil {
  int year;
  int month;
  int day;
};

civil civil_from_days(std::int64_t z) {
  z += 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

int days_in_month(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

bool in(const cron_pattern::field& f, int v) {
  return f.any || f.values.count(v) > 0;
}

struct day_rule {
  bool day_of_month = true;
  bool day_of_week = true;
};

bool nth_weekday_matches(const cron_pattern& p, const civil& c, int weekday) {
  auto it = p.nth_weekday.find(weekday);
  if (it == p.nth_weekday.end())
    return false;
  int occurrence = (c.day - 1) / 7 + 1;
  bool last = c.day + 7 > days_in_month(c.year, c.month);
  for (int n : it->second)
    if (n == -1 ? last : n == occurrence)
      return true;
  return false;
}

bool day_matches(const cron_pattern& p, std::int64_t days, day_rule rule) {
  civil c = civil_from_days(days);
  if (!in(p.month, c.month))
    return false;
  if (rule.day_of_month && !p.day_of_month.any) {
    bool last = p.last_day_of_month && c.day == days_in_month(c.year, c.month);
    if (!last && p.day_of_month.values.count(c.day) == 0)
      return false;
  }
  int weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);
  // As croniter, the n-th weekday rule applies even when only the day of
  // month is asked for (its day-OR branch keeps it).
  if (!p.nth_weekday.empty())
    return nth_weekday_matches(p, c, weekday);
  if (rule.day_of_week && !p.day_of_week.any)
    return p.day_of_week.values.count(weekday) > 0 || (weekday == 0 && p.day_of_week.values.count(7) > 0);
  return true;
}

// The first second of the day at or after `from` (seconds into the day).
std::optional<int> first_time_of_day(const cron_pattern& p, int from) {
  for (int h = 0; h < 24; ++h) {
    if (!in(p.hour, h) || (h + 1) * 3600 <= from)
      continue;
    for (int m = 0; m < 60; ++m) {
      if (!in(p.minute, m) || h * 3600 + (m + 1) * 60 <= from)
        continue;
      for (int s = 0; s < (p.has_seconds ? 60 : 1); ++s) {
        int t = h * 3600 + m * 60 + s;
        if (t >= from && (!p.has_seconds || in(p.second, s)))
          return t;
      }
    }
  }
  return std::nullopt;
}

result<std::int64_t> search(const cron_pattern& p, std::int64_t from_s, day_rule rule) {
  std::int64_t day = floor_div(from_s, 86400);
  int from = static_cast<int>(from_s - day * 86400);
  int last_year = civil_from_days(day).year + 50;
  for (;; ++day, from = 0) {
    if (civil_from_days(day).year > last_year)
      return error(errc::internal, "failed to find next date");
    if (!day_matches(p, day, rule))
      continue;
    if (auto t = first_time_of_day(p, from))
      return day * 86400 + *t;
  }
}

} // namespace

result<cron_pattern> parse_cron(const std::string& text) {
  static const std::map<std::string, std::string> aliases = {
    {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
  };
  std::string efl = text;
  std::transform(efl.begin(), efl.end(), efl.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (auto it = aliases.find(efl); it != aliases.end())
    efl = it->second;
  std::vector<std::string> fields;
  std::istringstream words(efl);
  for (std::string w; words >> w;)
    fields.push_back(w);
  if (fields.size() != 5 && fields.size() != 6)
    return invalid("Exactly 5 or 6 columns has to be specified for iterator expression.");
  cron_pattern p;
  p.text = text;
  p.has_seconds = fields.size() == 6;
  cron_pattern::field* targets[] = {&p.minute, &p.hour, &p.day_of_month, &p.month, &p.day_of_week, &p.second};
  for (int i = 0; i < static_cast<int>(fields.size()); ++i) {
    auto expr = expand_random(i, fields[i]);
    if (!expr.ok())
      return std::move(expr).err();
    std::vector<std::string> work = split_on(*expr, ',');
    field_state st;
    while (!work.empty()) {
      std::string item = work.back();
      work.pop_back();
      if (auto done = expand_item(i, fields.size(), item, work, st); !done.ok())
        return std::move(done).err();
    }
    std::size_t count = st.values.size() + (st.star ? 1 : 0) + (st.last ? 1 : 0);
    targets[i]->any = st.star || count == len_means_all[i];
    targets[i]->values = st.values;
    if (i == 2)
      p.last_day_of_month = st.last;
    if (i == 4)
      p.nth_weekday = st.nth;
  }
  if (!p.has_seconds)
    p.second.any = true;
  for (int v : p.day_of_week.values)
    if (!p.nth_weekday.empty() && !p.nth_weekday.count(v))
      return invalid("day-of-week field does not support mixing literal values and nth day of week syntax.");
  return p;
}

result<timestamp> next_fire_time(const cron_pattern& p, timestamp after) {
  std::int64_t now = floor_div(after, 1000000);
  std::int64_t from = p.has_seconds ? now + 1 : floor_div(now + 60, 60) * 60;
  bool day_or = !p.day_of_month.any && !p.day_of_week.any;
  if (!day_or) {
    auto t = search(p, from, {});
    if (!t.ok())
      return std::move(t).err();
    return *t * 1000000;
  }
  auto by_month_day = search(p, from, {true, false});
  if (!by_month_day.ok())
    return std::move(by_month_day).err();
  auto by_week_day = search(p, from, {false, true});
  if (!by_week_day.ok())
    return std::move(by_week_day).err();
  return std::min(*by_month_day, *by_week_day) * 1000000;
}

result<timestamp> next_fire_time(const std::string& pattern, timestamp after) {
  auto p = parse_cron(pattern);
  if (!p.ok())
    return std::move(p).err();
  return next_fire_time(*p, after);
}

} // namespace mistral::cron

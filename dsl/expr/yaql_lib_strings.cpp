// yaql's strings.py, math.py, boolean.py, branching.py and regex.py.

#include "dsl/expr/yaql_lib.hpp"

#include "dsl/expr/py_value.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <regex>

namespace mistral::expr::yaql::lib {

namespace {

/// yaql's str(): null/true/false spelled the yaql way, everything else as Python's str().
std::string yaql_str(const value& v) {
  if (v.is_null())
    return "null";
  if (v.is(kind::boolean))
    return v.as_bool() ? "true" : "false";
  return py_str(v);
}

bool py_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f' ||
         (ch >= 0x1c && ch <= 0x1f);
}

// ---- strings.py -------------------------------------------------------------

value fn_str(call_args& c) {
  arity(c, 1, 1);
  return value::string(yaql_str(c.get(0)));
}

/// Case mapping for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic:
/// the scripts workflow data uses in practice.
char32_t map_case(char32_t cp, bool upper) {
  if (cp < 0x80)
    return upper ? static_cast<char32_t>(std::toupper(static_cast<int>(cp)))
                 : static_cast<char32_t>(std::tolower(static_cast<int>(cp)));
  auto shift = [&](char32_t lo_start, char32_t lo_end, char32_t up_start, char32_t up_end) -> char32_t {
    if (upper && cp >= lo_start && cp <= lo_end)
      return cp - lo_start + up_start;
    if (!upper && cp >= up_start && cp <= up_end)
      return cp - up_start + lo_start;
    return 0;
  };
  if (cp == 0xd7 || cp == 0xf7)
    return cp;
  for (auto r : {shift(0xe0, 0xfe, 0xc0, 0xde), shift(0x3b1, 0x3c9, 0x391, 0x3a9),
                 shift(0x430, 0x44f, 0x410, 0x42f), shift(0x450, 0x45f, 0x400, 0x40f)})
    if (r && r != 0x3a2)
      return r;
  if (cp >= 0x100 && cp <= 0x17f && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 && cp != 0x17f) {
    bool odd_is_lower = !(cp >= 0x139 && cp <= 0x148) && !(cp >= 0x179);
    bool is_lower = (cp % 2 == 1) == odd_is_lower;
    if (upper && is_lower)
      return cp - 1;
    if (!upper && !is_lower)
      return cp + 1;
  }
  return cp;
}

std::string change_case(const std::string& s, bool upper) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (i + len > s.size())
      len = 1;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
    for (std::size_t k = 1; k < len; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    if (len == 1 || len == 2) {
      char32_t m = map_case(cp, upper);
      if (m < 0x80) {
        out += static_cast<char>(m);
      } else {
        out += static_cast<char>(0xc0 | (m >> 6));
        out += static_cast<char>(0x80 | (m & 0x3f));
      }
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  return out;
}

value fn_to_upper(call_args& c) {
  arity(c, 1, 1);
  return value::string(change_case(str_arg(c, 0), true));
}

value fn_to_lower(call_args& c) {
  arity(c, 1, 1);
  return value::string(change_case(str_arg(c, 0), false));
}

seq_t split_whitespace(const std::string& s, std::int64_t max_splits, bool from_right) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && py_space(s[i]))
      ++i;
    if (i >= s.size())
      break;
    std::size_t j = i;
    while (j < s.size() && !py_space(s[j]))
      ++j;
    parts.push_back(s.substr(i, j - i));
    i = j;
  }
  seq_t out;
  if (max_splits >= 0 && static_cast<std::int64_t>(parts.size()) > max_splits + 1) {
    // Re-split keeping the unsplit remainder, as str.split/rsplit do.
    if (!from_right) {
      std::size_t pos = 0;
      for (std::int64_t k = 0; k < max_splits; ++k) {
        while (py_space(s[pos]))
          ++pos;
        std::size_t end = pos;
        while (!py_space(s[end]))
          ++end;
        out.push_back(value::string(s.substr(pos, end - pos)));
        pos = end;
      }
      while (pos < s.size() && py_space(s[pos]))
        ++pos;
      std::size_t end = s.size();
      while (end > pos && py_space(s[end - 1]))
        --end;
      out.push_back(value::string(s.substr(pos, end - pos)));
      return out;
    }
    std::size_t end = s.size();
    seq_t rev;
    for (std::int64_t k = 0; k < max_splits; ++k) {
      while (end > 0 && py_space(s[end - 1]))
        --end;
      std::size_t start = end;
      while (start > 0 && !py_space(s[start - 1]))
        --start;
      rev.push_back(value::string(s.substr(start, end - start)));
      end = start;
    }
    std::size_t start = 0;
    while (start < end && py_space(s[start]))
      ++start;
    while (end > start && py_space(s[end - 1]))
      --end;
    rev.push_back(value::string(s.substr(start, end - start)));
    std::reverse(rev.begin(), rev.end());
    return rev;
  }
  for (auto& p : parts)
    out.push_back(value::string(std::move(p)));
  return out;
}

seq_t split_by(const std::string& s, const std::string& sep, std::int64_t max_splits, bool from_right) {
  if (sep.empty())
    fail("empty separator");
  std::vector<std::string> parts;
  if (!from_right) {
    std::size_t pos = 0;
    for (;;) {
      std::size_t hit = s.find(sep, pos);
      if (hit == std::string::npos ||
          (max_splits >= 0 && static_cast<std::int64_t>(parts.size()) >= max_splits)) {
        parts.push_back(s.substr(pos));
        break;
      }
      parts.push_back(s.substr(pos, hit - pos));
      pos = hit + sep.size();
    }
  } else {
    std::size_t end = s.size();
    for (;;) {
      std::size_t hit = end >= sep.size() ? s.rfind(sep, end - sep.size()) : std::string::npos;
      if (hit == std::string::npos ||
          (max_splits >= 0 && static_cast<std::int64_t>(parts.size()) >= max_splits)) {
        parts.push_back(s.substr(0, end));
        break;
      }
      parts.push_back(s.substr(hit + sep.size(), end - hit - sep.size()));
      end = hit;
    }
    std::reverse(parts.begin(), parts.end());
  }
  seq_t out;
  for (auto& p : parts)
    out.push_back(value::string(std::move(p)));
  return out;
}

value regex_split(call_args& c, const value& re, const std::string& s, std::int64_t max_split);

value string_split(call_args& c, bool from_right) {
  arity(c, 1, 3);
  std::string s = str_arg(c, 0);
  value sep = c.size() > 1 ? c.get(1) : c.named_value("separator");
  value maxv = c.size() > 2 ? c.get(2) : c.named_value("maxSplits");
  if (!from_right && sep.is(kind::regex))
    return regex_split(c, sep, s, maxv.is(kind::integer) ? maxv.as_int() : 0);
  std::int64_t max_splits = maxv.is(kind::integer) ? maxv.as_int() : -1;
  if (sep.is_null())
    return make_list(split_whitespace(s, max_splits, from_right));
  if (!sep.is(kind::string))
    throw no_match{};
  return make_list(split_by(s, std::string(sep.as_str()), max_splits, from_right));
}

value fn_split(call_args& c) {
  value first = c.get(0);
  if (first.is(kind::regex)) {
    arity(c, 2, 3);
    return regex_split(c, first, str_arg(c, 1), c.size() > 2 ? int_arg(c, 2) : 0);
  }
  return string_split(c, false);
}

value fn_right_split(call_args& c) {
  return string_split(c, true);
}

value fn_join_str(call_args& c) {
  arity(c, 2, 2);
  value a = c.get(0), b = c.get(1);
  value seq = a.is(kind::string) && b.is_iterable() ? b : a;
  value sep = a.is(kind::string) && b.is_iterable() ? a : b;
  if (!seq.is_iterable() || !sep.is(kind::string))
    throw no_match{};
  std::string out;
  bool first = true;
  seq.for_each([&](const value& x) {
    if (!first)
      out.append(sep.as_str());
    first = false;
    out += yaql_str(x);
    return true;
  });
  c.ev.charge(out.size());
  return value::string(std::move(out));
}

value fn_concat_str(call_args& c) {
  std::string out;
  for (std::size_t i = 0; i < c.size(); ++i)
    out += str_arg(c, i);
  return value::string(std::move(out));
}

std::string strip(const std::string& s, const value& chars, bool left, bool right) {
  auto is_strip = [&](char ch) {
    if (chars.is_null())
      return py_space(ch);
    return chars.as_str().find(ch) != std::string_view::npos;
  };
  std::size_t b = 0, e = s.size();
  if (left)
    while (b < e && is_strip(s[b]))
      ++b;
  if (right)
    while (e > b && is_strip(s[e - 1]))
      --e;
  return s.substr(b, e - b);
}

value trim_impl(call_args& c, bool left, bool right) {
  arity(c, 1, 2);
  std::string s = str_arg(c, 0);
  value chars = c.size() > 1 ? c.get(1) : c.named_value("chars");
  if (!chars.is_null() && !chars.is(kind::string))
    throw no_match{};
  return value::string(strip(s, chars, left, right));
}

value fn_trim(call_args& c) {
  return trim_impl(c, true, true);
}
value fn_trim_left(call_args& c) {
  return trim_impl(c, true, false);
}
value fn_trim_right(call_args& c) {
  return trim_impl(c, false, true);
}

value fn_norm(call_args& c) {
  arity(c, 1, 2);
  value s = c.get(0);
  if (s.is_null())
    return value();
  if (!s.is(kind::string))
    throw no_match{};
  value chars = c.size() > 1 ? c.get(1) : value();
  std::string r = strip(std::string(s.as_str()), chars, true, true);
  return r.empty() ? value() : value::string(r);
}

value fn_is_empty(call_args& c) {
  arity(c, 1, 3);
  value s = c.get(0);
  if (s.is_null())
    return value::boolean(true);
  if (!s.is(kind::string))
    throw no_match{};
  value trim_spaces = c.size() > 1            ? c.get(1)
                      : c.named("trimSpaces") ? c.named_value("trimSpaces")
                                              : value::boolean(true);
  value chars = c.size() > 2 ? c.get(2) : c.named_value("chars");
  std::string str(s.as_str());
  if (truthy(trim_spaces))
    str = strip(str, chars, true, true);
  return value::boolean(str.empty());
}

std::string replace_all(const std::string& s, const std::string& old, const std::string& repl,
                        std::int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts the replacement between every character.
    std::int64_t n = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
      if (count < 0 || n < count) {
        out += repl;
        ++n;
      }
      if (i < s.size())
        out += s[i];
    }
    return out;
  }
  std::size_t pos = 0;
  std::int64_t n = 0;
  for (;;) {
    std::size_t hit = s.find(old, pos);
    if (hit == std::string::npos || (count >= 0 && n >= count))
      break;
    out.append(s, pos, hit - pos);
    out += repl;
    pos = hit + old.size();
    ++n;
  }
  out.append(s, pos);
  return out;
}

value regex_replace(call_args& c, const value& re, const std::string& s, const value& repl,
                    std::int64_t count);

value fn_replace_str(call_args& c) {
  value first = c.get(0);
  if (first.is(kind::regex)) {
    arity(c, 3, 4);
    return regex_replace(c, first, str_arg(c, 1), c.get(2), c.size() > 3 ? int_arg(c, 3) : 0);
  }
  if (!first.is(kind::string))
    throw no_match{};
  std::string s(first.as_str());
  value second = c.get(1);
  if (second.is(kind::regex)) {
    arity(c, 3, 4);
    return regex_replace(c, second, s, c.get(2), c.size() > 3 ? int_arg(c, 3) : 0);
  }
  if (second.is(kind::dict)) {
    arity(c, 2, 3);
    std::int64_t count = c.size() > 2 ? int_arg(c, 2) : -1;
    for (const auto& kv : second.pairs())
      s = replace_all(s, yaql_str(kv.first), yaql_str(kv.second), count);
    return value::string(s);
  }
  arity(c, 3, 4);
  std::string old = str_arg(c, 1), repl = str_arg(c, 2);
  std::int64_t count = c.size() > 3 ? int_arg(c, 3) : -1;
  std::string out = replace_all(s, old, repl, count);
  c.ev.charge(out.size());
  return value::string(std::move(out));
}

/// Python's str.format for the common cases: {}, {0}, {name}, {{ and }}.
value fn_format(call_args& c) {
  std::string f = str_arg(c, 0);
  std::string out;
  std::size_t auto_index = 1;
  for (std::size_t i = 0; i < f.size(); ++i) {
    char ch = f[i];
    if (ch == '{' && i + 1 < f.size() && f[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    if (ch == '}' && i + 1 < f.size() && f[i + 1] == '}') {
      out += '}';
      ++i;
      continue;
    }
    if (ch != '{') {
      out += ch;
      continue;
    }
    auto close = f.find('}', i);
    if (close == std::string::npos)
      fail("Single '{' encountered in format string");
    std::string field = f.substr(i + 1, close - i - 1);
    std::string spec;
    if (auto colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    value v;
    if (field.empty()) {
      v = c.get(auto_index++);
    } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
      std::size_t idx = std::stoul(field) + 1;
      if (idx >= c.size())
        fail("Replacement index " + field + " out of range for positional args tuple");
      v = c.get(idx);
    } else {
      if (!c.named(field))
        fail("'" + field + "'");
      v = c.named_value(field);
    }
    if (!spec.empty() && v.is_number()) {
      char buf[128];
      std::string fmt = "%" + spec;
      if (fmt.back() == 'd')
        std::snprintf(buf, sizeof buf, fmt.c_str(), static_cast<long long>(v.as_int()));
      else
        std::snprintf(buf, sizeof buf, fmt.c_str(), v.as_float());
      out += buf;
    } else {
      out += py_str(v);
    }
    i = close;
  }
  return value::string(std::move(out));
}

/// Byte offsets of each code point of a UTF-8 string, plus the end: Python
/// indexes strings by code point.
std::vector<std::size_t> code_point_offsets(const std::string& s) {
  std::vector<std::size_t> offs;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80)
      offs.push_back(i);
  offs.push_back(s.size());
  return offs;
}

value fn_substring(call_args& c) {
  arity(c, 2, 3);
  std::string s = str_arg(c, 0);
  auto offs = code_point_offsets(s);
  auto n = static_cast<std::int64_t>(offs.size() - 1);
  std::int64_t start = int_arg(c, 1);
  std::int64_t length = c.size() > 2 ? int_arg(c, 2) : -1;
  if (length < 0)
    length = n;
  if (start < 0)
    start += n;
  std::int64_t b = std::clamp<std::int64_t>(start, 0, n);
  std::int64_t e = std::clamp<std::int64_t>(start + length, 0, n);
  if (e <= b)
    return value::string(std::string());
  std::size_t from = offs[static_cast<std::size_t>(b)], to = offs[static_cast<std::size_t>(e)];
  return value::string(s.substr(from, to - from));
}

value string_find(call_args& c, bool last) {
  arity(c, 2, 4);
  value first = c.get(0);
  if (!first.is(kind::string))
    throw no_match{};
  std::string s(first.as_str());
  value subv = c.get(1);
  if (!subv.is(kind::string))
    throw no_match{};
  std::string sub(subv.as_str());
  auto n = static_cast<std::int64_t>(s.size());
  std::int64_t start = c.size() > 2 ? int_arg(c, 2) : 0;
  std::int64_t end = n;
  if (c.size() > 3) {
    if (start < 0)
      start += n;
    std::int64_t length = int_arg(c, 3);
    if (length < 0)
      length = n - start;
    end = start + length;
  }
  if (start < 0)
    start = std::max<std::int64_t>(0, start + n);
  end = std::min(end, n);
  if (start > end || static_cast<std::int64_t>(sub.size()) > end - start)
    return value::integer(-1);
  std::string window = s.substr(start, end - start);
  std::size_t hit = last ? window.rfind(sub) : window.find(sub);
  return value::integer(hit == std::string::npos ? -1 : static_cast<std::int64_t>(hit) + start);
}

value fn_index_of_str(call_args& c) {
  return string_find(c, false);
}
value fn_last_index_of_str(call_args& c) {
  return string_find(c, true);
}

value fn_to_char_array(call_args& c) {
  arity(c, 1, 1);
  std::string s = str_arg(c, 0);
  seq_t out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 1;
    auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0xf0)
      len = 4;
    else if (b >= 0xe0)
      len = 3;
    else if (b >= 0xc0)
      len = 2;
    out.push_back(value::string(s.substr(i, len)));
    i += len;
  }
  return make_tuple(std::move(out));
}

value fn_is_string(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is(kind::string));
}

value affix(call_args& c, bool prefix) {
  std::string s = str_arg(c, 0);
  for (std::size_t i = 1; i < c.size(); ++i) {
    std::string a = str_arg(c, i);
    bool hit = a.size() <= s.size() &&
               (prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0);
    if (hit)
      return value::boolean(true);
  }
  return value::boolean(false);
}

value fn_starts_with(call_args& c) {
  return affix(c, true);
}
value fn_ends_with(call_args& c) {
  return affix(c, false);
}

value fn_hex(call_args& c) {
  arity(c, 1, 1);
  std::int64_t v = int_arg(c, 0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s0x%llx", v < 0 ? "-" : "",
                static_cast<unsigned long long>(v < 0 ? -static_cast<unsigned long long>(v) : v));
  return value::string(buf);
}

// ---- math.py ------------------------------------------------------------------

value fn_abs(call_args& c) {
  arity(c, 1, 1);
  value v = number_arg(c, 0);
  if (v.is(kind::integer)) {
    try {
      return value::big_integer(v.as_big() < 0 ? -v.as_big() : v.as_big());
    } catch (const std::runtime_error& e) {
      fail(e.what());
    }
  }
  return value::floating(std::fabs(v.as_float()));
}

value fn_int(call_args& c) {
  arity(c, 1, 1);
  value v = c.get(0);
  switch (v.type()) {
    case kind::null: return value::integer(0);
    case kind::boolean:
    case kind::integer: return value::integer(v.as_int());
    case kind::floating: {
      double d = v.as_float();
      if (!std::isfinite(d))
        fail("cannot convert float to integer");
      return value::integer(static_cast<std::int64_t>(std::trunc(d)));
    }
    case kind::string: {
      std::string s = strip(std::string(v.as_str()), value(), true, true);
      std::string digits;
      for (char ch : s)
        if (ch != '_')
          digits += ch;
      char* end = nullptr;
      errno = 0;
      long long r = std::strtoll(digits.c_str(), &end, 10);
      if (digits.empty() || *end != '\0' || errno == ERANGE)
        fail("invalid literal for int() with base 10: " +
             mistral::expr::py_repr(json(std::string(v.as_str()))));
      return value::integer(r);
    }
    default:
      fail(std::string("int() argument must be a string, a bytes-like object or a real number, not '") +
           type_name(v) + "'");
  }
}

value fn_float(call_args& c) {
  arity(c, 1, 1);
  value v = c.get(0);
  switch (v.type()) {
    case kind::null: return value::floating(0.0);
    case kind::boolean:
    case kind::integer:
    case kind::floating: return value::floating(v.as_float());
    case kind::string: {
      std::string raw = strip(std::string(v.as_str()), value(), true, true);
      // Python accepts single underscores between digits.
      std::string s;
      for (std::size_t k = 0; k < raw.size(); ++k)
        if (!(raw[k] == '_' && k > 0 && k + 1 < raw.size() &&
              std::isdigit(static_cast<unsigned char>(raw[k - 1])) &&
              std::isdigit(static_cast<unsigned char>(raw[k + 1]))))
          s += raw[k];
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0')
        fail("could not convert string to float: " + mistral::expr::py_repr(json(std::string(v.as_str()))));
      return value::floating(d);
    }
    default:
      fail(std::string("float() argument must be a string or a real number, not '") + type_name(v) + "'");
  }
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

value fn_random(call_args& c) {
  if (c.size() == 0)
    return value::floating(std::uniform_real_distribution<double>(0.0, 1.0)(rng()));
  arity(c, 2, 2);
  std::int64_t a = int_arg(c, 0), b = int_arg(c, 1);
  if (a > b)
    fail("empty range for randrange()");
  return value::integer(std::uniform_int_distribution<std::int64_t>(a, b)(rng()));
}

value bitwise(call_args& c, char op) {
  if (op == '~') {
    arity(c, 1, 1);
    return value::integer(~int_arg(c, 0));
  }
  arity(c, 2, 2);
  std::int64_t a = int_arg(c, 0), b = int_arg(c, 1);
  switch (op) {
    case '&': return value::integer(a & b);
    case '|': return value::integer(a | b);
    case '^': return value::integer(a ^ b);
    case '>':
      if (b < 0)
        fail("negative shift count");
      return value::integer(b >= 63 ? (a < 0 ? -1 : 0) : a >> b);
    default:
      if (b < 0)
        fail("negative shift count");
      if (b >= 63 || (a != 0 && std::abs(a) > (INT64_MAX >> b)))
        fail("integer overflow");
      return value::integer(a << b);
  }
}

value fn_bit_and(call_args& c) {
  return bitwise(c, '&');
}
value fn_bit_or(call_args& c) {
  return bitwise(c, '|');
}
value fn_bit_xor(call_args& c) {
  return bitwise(c, '^');
}
value fn_bit_not(call_args& c) {
  return bitwise(c, '~');
}
value fn_shift_right(call_args& c) {
  return bitwise(c, '>');
}
value fn_shift_left(call_args& c) {
  return bitwise(c, '<');
}

value fn_max2(call_args& c) {
  arity(c, 2, 2);
  value a = c.get(0), b = c.get(1);
  return c.ev.op_binary(">", b, a).as_bool() ? b : a;
}

value fn_min2(call_args& c) {
  arity(c, 2, 2);
  value a = c.get(0), b = c.get(1);
  return c.ev.op_binary(">", b, a).as_bool() ? a : b;
}

value fn_pow(call_args& c) {
  arity(c, 2, 3);
  value a = number_arg(c, 0), b = number_arg(c, 1);
  value m = c.size() > 2 ? c.get(2) : value();
  if (a.is(kind::integer) && b.is(kind::integer) && b.as_int() >= 0) {
    std::int64_t base = a.as_int(), e = b.as_int(), r = 1;
    std::int64_t mod = m.is(kind::integer) ? m.as_int() : 0;
    if (m.is(kind::integer) && mod == 0)
      fail("pow() 3rd argument cannot be 0");
    if (mod) {
      __int128 acc = 1, bb = ((base % mod) + mod) % mod;
      for (std::int64_t k = e; k > 0; k >>= 1) {
        if (k & 1)
          acc = acc * bb % mod;
        bb = bb * bb % mod;
      }
      std::int64_t res = static_cast<std::int64_t>(acc);
      if (res != 0 && ((res < 0) != (mod < 0)))
        res += mod;
      return value::integer(res);
    }
    for (std::int64_t k = 0; k < e; ++k) {
      if (__builtin_mul_overflow(r, base, &r))
        fail("integer overflow");
      if (r == 0 || r == 1)
        break;
    }
    if (r == 1 && base == -1)
      r = (e % 2) ? -1 : 1;
    return value::integer(r);
  }
  if (!m.is_null())
    fail("pow() 3rd argument not allowed unless all arguments are integers");
  double r = std::pow(a.as_float(), b.as_float());
  if (std::isnan(r) && a.as_float() < 0)
    fail("negative number cannot be raised to a fractional power");
  return value::floating(r);
}

value fn_sign(call_args& c) {
  arity(c, 1, 1);
  value v = number_arg(c, 0);
  double d = v.as_float();
  return value::integer(d > 0 ? 1 : d < 0 ? -1 : 0);
}

double py_round(double x, std::int64_t nd) {
  if (!std::isfinite(x) || nd > 300)
    return x;
  if (nd < -308)
    return 0.0 * x;
  char buf[512];
  if (nd >= 0) {
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(nd), x);
    return std::strtod(buf, nullptr);
  }
  double p = std::pow(10.0, static_cast<double>(-nd));
  double y = x / p;
  double r = std::nearbyint(y);
  return r * p;
}

value fn_round(call_args& c) {
  arity(c, 1, 2);
  value v = number_arg(c, 0);
  std::int64_t nd = c.size() > 1 ? int_arg(c, 1) : 0;
  if (v.is(kind::integer)) {
    if (nd >= 0)
      return v;
    return value::integer(static_cast<std::int64_t>(py_round(static_cast<double>(v.as_int()), nd)));
  }
  return value::floating(py_round(v.as_float(), nd));
}

value fn_is_integer(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is(kind::integer));
}

value fn_is_number(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is_number());
}

// ---- boolean.py / branching.py ------------------------------------------------

value fn_bool(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(truthy(c.get(0)));
}

value fn_is_boolean(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is(kind::boolean));
}

value fn_switch(call_args& c) {
  if (c.size() != 0)
    throw no_match{};
  for (const node* m : c.mappings())
    if (truthy(c.ev.eval(*m->args[0], c.sc)))
      return c.ev.eval(*m->args[1], c.sc);
  return value();
}

value fn_select_case(call_args& c) {
  std::size_t i = 0;
  for (; i < c.size(); ++i)
    if (truthy(c.call(i, {})))
      return value::integer(static_cast<std::int64_t>(i));
  return value::integer(static_cast<std::int64_t>(i));
}

value fn_switch_case(call_args& c) {
  std::int64_t k = int_arg(c, 0);
  std::size_t n = c.size() - 1;
  if (k >= 0 && static_cast<std::size_t>(k) < n)
    return c.call(static_cast<std::size_t>(k) + 1, {});
  if (n == 0)
    return value();
  return c.call(n, {});
}

value fn_select_all_cases(call_args& c) {
  seq_t out;
  for (std::size_t i = 0; i < c.size(); ++i)
    if (truthy(c.call(i, {})))
      out.push_back(value::integer(static_cast<std::int64_t>(i)));
  return make_iterator(c.ev, std::move(out));
}

value fn_examine(call_args& c) {
  seq_t out;
  for (std::size_t i = 0; i < c.size(); ++i)
    out.push_back(value::boolean(truthy(c.call(i, {}))));
  return make_iterator(c.ev, std::move(out));
}

value fn_coalesce(call_args& c) {
  for (std::size_t i = 0; i < c.size(); ++i) {
    value v = c.call(i, {});
    if (!v.is_null())
      return v;
  }
  return value();
}

// ---- regex.py -----------------------------------------------------------------

/// Python's re syntax mapped onto ECMAScript: named groups lose their names
/// (kept aside), \A and \Z become anchors.
std::string translate_pattern(const std::string& p, std::vector<std::string>* names) {
  std::string out;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      if (e == 'A') {
        out += '^';
      } else if (e == 'Z') {
        out += '$';
      } else {
        out += p[i];
        out += e;
      }
      ++i;
      continue;
    }
    if (p.compare(i, 4, "(?P<") == 0) {
      auto close = p.find('>', i);
      if (names)
        names->push_back(p.substr(i + 4, close - i - 4));
      out += '(';
      i = close;
      continue;
    }
    if (p[i] == '(' && (i + 1 >= p.size() || p[i + 1] != '?') && names)
      names->push_back("");
    out += p[i];
  }
  return out;
}

/// libstdc++'s std::regex recurses once per input character, so long inputs
/// could overflow the stack; past this size a regex operation fails cleanly.
constexpr std::size_t max_regex_input = 5000;

const std::string& regex_input(const std::string& s) {
  if (s.size() > max_regex_input)
    fail("string of " + std::to_string(s.size()) +
         " characters is too long for a regular expression (limit " + std::to_string(max_regex_input) + ")");
  return s;
}

const std::regex& compiled(const value& re) {
  const regex_obj& r = re.as_regex();
  return *static_cast<const std::regex*>(r.compiled.get());
}

value make_regex(const std::string& pattern, bool icase, bool multi, bool dotall) {
  auto r = std::make_shared<regex_obj>();
  r->pattern = pattern;
  r->ignore_case = icase;
  r->multi_line = multi;
  r->dot_all = dotall;
  auto flags = std::regex::ECMAScript;
  if (icase)
    flags |= std::regex::icase;
  if (multi)
    flags |= std::regex::multiline;
  std::string p = translate_pattern(pattern, nullptr);
  if (dotall) {
    std::string q;
    bool in_class = false;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (p[i] == '\\' && i + 1 < p.size()) {
        q += p.substr(i, 2);
        ++i;
        continue;
      }
      if (p[i] == '[')
        in_class = true;
      if (p[i] == ']')
        in_class = false;
      q += (p[i] == '.' && !in_class) ? std::string("[\\s\\S]") : std::string(1, p[i]);
    }
    p = q;
  }
  try {
    r->compiled = std::make_shared<std::regex>(p, flags);
  } catch (const std::regex_error& ex) {
    fail(std::string("invalid regular expression: ") + ex.what());
  }
  return value::regex(r);
}

value as_regex(const value& v) {
  if (v.is(kind::regex))
    return v;
  if (v.is(kind::string))
    return make_regex(std::string(v.as_str()), false, false, false);
  throw no_match{};
}

value fn_regex(call_args& c) {
  arity(c, 1, 4);
  std::string p = str_arg(c, 0);
  auto flag = [&](std::size_t i, const char* name) {
    return truthy(c.size() > i ? c.get(i) : c.named_value(name));
  };
  return make_regex(p, flag(1, "ignoreCase"), flag(2, "multiLine"), flag(3, "dotAll"));
}

value fn_matches(call_args& c) {
  arity(c, 2, 2);
  value a = c.get(0), b = c.get(1);
  value re, s;
  if (a.is(kind::regex) && b.is(kind::string)) {
    re = a;
    s = b;
  } else if (a.is(kind::string) && (b.is(kind::string) || b.is(kind::regex))) {
    re = as_regex(b);
    s = a;
  } else {
    throw no_match{};
  }
  std::string str(s.as_str());
  return value::boolean(std::regex_search(regex_input(str), compiled(re)));
}

value match_record(const std::smatch& m, std::size_t group) {
  dict_t rec;
  rec.emplace_back(value::string("value"), m[group].matched ? value::string(m[group].str()) : value());
  auto start = m[group].matched ? static_cast<std::int64_t>(m.position(group)) : -1;
  auto end = m[group].matched ? start + static_cast<std::int64_t>(m.length(group)) : -1;
  rec.emplace_back(value::string("start"), value::integer(start));
  rec.emplace_back(value::string("end"), value::integer(end));
  return value::dict(std::move(rec));
}

scope_ptr publish_match(const scope_ptr& sc, const std::smatch& m) {
  auto s = std::make_shared<scope>();
  s->parent = sc;
  s->set("1", match_record(m, 0));
  for (std::size_t i = 1; i < m.size(); ++i)
    s->set(std::to_string(i + 1), match_record(m, i));
  return s;
}

std::pair<value, std::string> regex_and_string(call_args& c) {
  value a = c.get(0), b = c.get(1);
  if (a.is(kind::regex) && b.is(kind::string))
    return {a, std::string(b.as_str())};
  if (a.is(kind::string) && b.is(kind::regex))
    return {b, std::string(a.as_str())};
  throw no_match{};
}

value fn_search(call_args& c) {
  arity(c, 2, 3);
  auto [re, s] = regex_and_string(c);
  std::smatch m;
  if (!std::regex_search(regex_input(s), m, compiled(re)))
    return value();
  if (c.size() < 3)
    return value::string(m.str(0));
  return c.ev.eval(*c.node_at(2), publish_match(c.sc, m));
}

value fn_search_all(call_args& c) {
  arity(c, 2, 3);
  auto [re, s] = regex_and_string(c);
  regex_input(s);
  seq_t out;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), compiled(re)); it != std::sregex_iterator(); ++it) {
    c.ev.tick();
    if (c.size() < 3)
      out.push_back(value::string(it->str(0)));
    else
      out.push_back(c.ev.eval(*c.node_at(2), publish_match(c.sc, *it)));
  }
  return value::sequence(kind::iterator, std::move(out));
}

value regex_split(call_args& c, const value& re, const std::string& s, std::int64_t max_split) {
  regex_input(s);
  seq_t out;
  std::size_t last = 0;
  std::int64_t n = 0;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), compiled(re)); it != std::sregex_iterator(); ++it) {
    if (max_split > 0 && n >= max_split)
      break;
    const auto& m = *it;
    auto pos = static_cast<std::size_t>(m.position(0));
    if (m.length(0) == 0 && pos == last && pos != 0 && false)
      continue;
    out.push_back(value::string(s.substr(last, pos - last)));
    for (std::size_t g = 1; g < m.size(); ++g)
      out.push_back(m[g].matched ? value::string(m[g].str()) : value());
    last = pos + static_cast<std::size_t>(m.length(0));
    ++n;
    c.ev.tick();
  }
  out.push_back(value::string(s.substr(last)));
  return make_list(std::move(out));
}

/// Expands a Python re.sub template: \1, \g<1>, \g<name> (by index), \n, \\.
std::string expand_template(const std::string& repl, const std::smatch& m) {
  std::string out;
  for (std::size_t i = 0; i < repl.size(); ++i) {
    if (repl[i] != '\\' || i + 1 >= repl.size()) {
      out += repl[i];
      continue;
    }
    char e = repl[i + 1];
    if (std::isdigit(static_cast<unsigned char>(e))) {
      std::size_t j = i + 1, g = 0;
      while (j < repl.size() && j < i + 3 && std::isdigit(static_cast<unsigned char>(repl[j])))
        g = g * 10 + static_cast<std::size_t>(repl[j++] - '0');
      if (g >= m.size())
        fail("invalid group reference " + std::to_string(g));
      out += m[g].str();
      i = j - 1;
    } else if (e == 'g' && i + 2 < repl.size() && repl[i + 2] == '<') {
      auto close = repl.find('>', i);
      std::string name = repl.substr(i + 3, close - i - 3);
      if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
        std::size_t g = std::stoul(name);
        if (g >= m.size())
          fail("invalid group reference " + name);
        out += m[g].str();
      } else {
        fail("unknown group name '" + name + "'");
      }
      i = close;
    } else {
      static const std::string from = "ntrfv\\abn";
      static const std::string to = "\n\t\r\f\v\\\a\b\n";
      auto p = from.find(e);
      if (p != std::string::npos) {
        out += to[p];
      } else {
        out += '\\';
        out += e;
      }
      ++i;
    }
  }
  return out;
}

value regex_sub(call_args& c, const value& re, const std::string& s, std::int64_t count,
                const std::function<std::string(const std::smatch&)>& repl) {
  regex_input(s);
  std::string out;
  std::size_t last = 0;
  std::int64_t n = 0;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), compiled(re)); it != std::sregex_iterator(); ++it) {
    if (count > 0 && n >= count)
      break;
    const auto& m = *it;
    auto pos = static_cast<std::size_t>(m.position(0));
    out.append(s, last, pos - last);
    out += repl(m);
    last = pos + static_cast<std::size_t>(m.length(0));
    ++n;
    c.ev.tick();
  }
  out.append(s, last);
  c.ev.charge(out.size());
  return value::string(std::move(out));
}

value regex_replace(call_args& c, const value& re, const std::string& s, const value& repl,
                    std::int64_t count) {
  if (!repl.is(kind::string))
    throw no_match{};
  std::string tmpl(repl.as_str());
  return regex_sub(c, re, s, count, [&](const std::smatch& m) { return expand_template(tmpl, m); });
}

value fn_replace_by(call_args& c) {
  arity(c, 3, 4);
  auto [re, s] = regex_and_string(c);
  std::int64_t count = c.size() > 3 ? int_arg(c, 3) : 0;
  const node* body = c.node_at(2);
  return regex_sub(c, re, s, count, [&](const std::smatch& m) {
    value r = c.ev.eval(*body, publish_match(c.sc, m));
    if (!r.is(kind::string))
      fail("expected str instance, " + std::string(type_name(r)) + " found");
    return std::string(r.as_str());
  });
}

value fn_escape_regex(call_args& c) {
  arity(c, 1, 1);
  std::string s = str_arg(c, 0), out;
  for (char ch : s) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' ||
          static_cast<unsigned char>(ch) >= 0x80))
      if (std::string("()[]{}?*+-|^$\\.&~# \t\n\r\v\f").find(ch) != std::string::npos)
        out += '\\';
    out += ch;
  }
  return value::string(out);
}

value fn_is_regex(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is(kind::regex));
}

} // namespace

void register_strings(table& t) {
  add(t, "str", fn_str, true, false);
  add(t, "toUpper", fn_to_upper, false, true);
  add(t, "toLower", fn_to_lower, false, true);
  add(t, "split", fn_split, false, true);
  add(t, "rightSplit", fn_right_split, false, true);
  add(t, "join", fn_join_str, false, true);
  add(t, "concat", fn_concat_str, true, false);
  add(t, "trim", fn_trim, false, true);
  add(t, "trimLeft", fn_trim_left, false, true);
  add(t, "trimRight", fn_trim_right, false, true);
  add(t, "norm", fn_norm, true, true);
  add(t, "isEmpty", fn_is_empty, true, true);
  add(t, "replace", fn_replace_str, false, true);
  add(t, "format", fn_format, true, true);
  add(t, "substring", fn_substring, false, true);
  add(t, "indexOf", fn_index_of_str, false, true);
  add(t, "lastIndexOf", fn_last_index_of_str, false, true);
  add(t, "toCharArray", fn_to_char_array, false, true);
  add(t, "isString", fn_is_string, true, false);
  add(t, "startsWith", fn_starts_with, false, true);
  add(t, "endsWith", fn_ends_with, false, true);
  add(t, "hex", fn_hex, true, false);
}

void register_math(table& t) {
  add(t, "abs", fn_abs, true, false);
  add(t, "int", fn_int, true, false);
  add(t, "float", fn_float, true, false);
  add(t, "random", fn_random, true, false);
  add(t, "bitwiseAnd", fn_bit_and, true, false);
  add(t, "bitwiseOr", fn_bit_or, true, false);
  add(t, "bitwiseXor", fn_bit_xor, true, false);
  add(t, "bitwiseNot", fn_bit_not, true, false);
  add(t, "shiftBitsRight", fn_shift_right, true, false);
  add(t, "shiftBitsLeft", fn_shift_left, true, false);
  add(t, "max", fn_max2, true, false);
  add(t, "min", fn_min2, true, false);
  add(t, "pow", fn_pow, true, false);
  add(t, "sign", fn_sign, true, false);
  add(t, "round", fn_round, true, false);
  add(t, "isInteger", fn_is_integer, true, false);
  add(t, "isNumber", fn_is_number, true, false);
  add(t, "bool", fn_bool, true, false);
  add(t, "isBoolean", fn_is_boolean, true, false);
  add(t, "switch", fn_switch, true, false);
  add(t, "selectCase", fn_select_case, true, false);
  add(t, "switchCase", fn_switch_case, false, true);
  add(t, "selectAllCases", fn_select_all_cases, true, false);
  add(t, "examine", fn_examine, true, false);
  add(t, "coalesce", fn_coalesce, true, false);
}

void register_regex(table& t) {
  add(t, "regex", fn_regex, true, false);
  add(t, "matches", fn_matches, false, true);
  add(t, "search", fn_search, false, true);
  add(t, "searchAll", fn_search_all, false, true);
  add(t, "replaceBy", fn_replace_by, false, true);
  add(t, "escapeRegex", fn_escape_regex, true, false);
  add(t, "isRegex", fn_is_regex, true, false);
}

} // namespace mistral::expr::yaql::lib

#include "dsl/expr/py_value.hpp"

#include "common/py_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace mistral::expr {

namespace {

/// Decodes one UTF-8 code point starting at s[i]; advances i. Invalid bytes
/// come back as themselves so nothing is lost.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
  if (i + len > s.size())
    len = 1;
  char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
  for (int k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += len;
  return cp;
}

/// Python's str.isprintable() for the characters that matter in practice:
/// controls, C1 controls, and the separators/format characters Python escapes.
bool py_printable(char32_t cp) {
  if (cp < 0x20 || cp == 0x7f)
    return false;
  if (cp >= 0x80 && cp <= 0xa0)
    return false;
  if (cp == 0xad || (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f))
    return false;
  if ((cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0xfeff)
    return false;
  if ((cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0xfff9 && cp <= 0xfffb))
    return false;
  if (cp >= 0xe000 && cp <= 0xf8ff)
    return false; // private use
  return true;
}

void append_escaped(std::string& out, char32_t cp) {
  char buf[16];
  if (cp < 0x100)
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
  else if (cp < 0x10000)
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
  else
    std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
  out += buf;
}

std::string py_str_repr(std::string_view s) {
  // Python prefers single quotes unless the text has ' and no ".
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out += quote;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t start = i;
    char32_t cp = next_code_point(s, i);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!py_printable(cp)) {
      append_escaped(out, cp);
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += quote;
  return out;
}

void repr_into(std::string& out, const json& v);

void repr_array(std::string& out, const json& v) {
  out += '[';
  bool first = true;
  for (const auto& item : v) {
    if (!first)
      out += ", ";
    first = false;
    repr_into(out, item);
  }
  out += ']';
}

void repr_object(std::string& out, const json& v) {
  out += '{';
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!first)
      out += ", ";
    first = false;
    out += py_str_repr(it.key());
    out += ": ";
    repr_into(out, it.value());
  }
  out += '}';
}

void repr_into(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::null: out += "None"; break;
    case json::value_t::boolean: out += v.get<bool>() ? "True" : "False"; break;
    case json::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); break;
    case json::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); break;
    case json::value_t::number_float: out += py_float_repr(v.get<double>()); break;
    case json::value_t::string: out += py_str_repr(v.get_ref<const std::string&>()); break;
    case json::value_t::array: repr_array(out, v); break;
    case json::value_t::object: repr_object(out, v); break;
    default: out += "None"; break;
  }
}

bool is_number(const json& v) {
  return v.is_number() || v.is_boolean();
}

double to_double(const json& x) {
  return x.is_boolean() ? (x.get<bool>() ? 1.0 : 0.0) : x.get<double>();
}

/// Python compares int, float and bool by value; integers stay exact.
bool numbers_equal(const json& a, const json& b) {
  auto as_int = [](const json& x, std::int64_t& out) {
    if (x.is_boolean()) {
      out = x.get<bool>();
      return true;
    }
    if (x.is_number_unsigned()) {
      auto u = x.get<std::uint64_t>();
      out = static_cast<std::int64_t>(u);
      return u <= static_cast<std::uint64_t>(INT64_MAX);
    }
    if (x.is_number_integer()) {
      out = x.get<std::int64_t>();
      return true;
    }
    return false;
  };
  std::int64_t ia = 0, ib = 0;
  if (as_int(a, ia) && as_int(b, ib))
    return ia == ib;
  if (a.is_number_unsigned() && b.is_number_unsigned())
    return a.get<std::uint64_t>() == b.get<std::uint64_t>();
  return to_double(a) == to_double(b);
}

} // namespace

std::string py_float_repr(double v) {
  return python_float_repr(v); // one implementation of Python's float repr
}

std::string py_repr(const json& v) {
  std::string out;
  repr_into(out, v);
  return out;
}

std::string py_str(const json& v) {
  if (v.is_string())
    return v.get<std::string>();
  return py_repr(v);
}

bool py_truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::number_integer: return v.get<std::int64_t>() != 0;
    case json::value_t::number_unsigned: return v.get<std::uint64_t>() != 0;
    case json::value_t::number_float: return v.get<double>() != 0.0;
    case json::value_t::string: return !v.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object: return !v.empty();
    default: return false;
  }
}

bool py_equal(const json& a, const json& b) {
  if (is_number(a) && is_number(b)) {
    if (a.is_number_float() || b.is_number_float())
      return to_double(a) == to_double(b);
    return numbers_equal(a, b);
  }
  if (a.type() != b.type())
    return false;
  if (a.is_array()) {
    if (a.size() != b.size())
      return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!py_equal(a[i], b[i]))
        return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size())
      return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !py_equal(it.value(), *other))
        return false;
    }
    return true;
  }
  return a == b;
}

} // namespace mistral::expr

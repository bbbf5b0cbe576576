#include "common/py_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace mistral {

std::string python_float_repr(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  bool neg = !sci.empty() && sci[0] == '-';
  if (neg)
    sci.remove_prefix(1);
  auto epos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, epos))
    if (c != '.')
      digits += c;
  int exp10 = std::atoi(std::string(sci.substr(epos + 1)).c_str());
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  int decpt = exp10 + 1;
  std::string out = neg ? "-" : "";
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (digits.size() > 1)
      out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out += ebuf;
  } else if (decpt <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
  } else if (static_cast<std::size_t>(decpt) >= digits.size()) {
    out += digits + std::string(decpt - digits.size(), '0') + ".0";
  } else {
    out += digits.substr(0, decpt) + "." + digits.substr(decpt);
  }
  return out;
}

namespace {

void put_u16(std::string& out, unsigned code) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u%04x", code);
  out += buf;
}

// Decodes one UTF-8 sequence at s[i]; invalid bytes decode as themselves
// (as U+FFFD would hide data, and Mistral never produces them).
unsigned decode_utf8(const std::string& s, std::size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  if (extra && i + extra >= s.size())
    return c; // truncated sequence: keep the byte
  unsigned code = extra == 3 ? c & 0x07 : extra == 2 ? c & 0x0F : extra == 1 ? c & 0x1F : c;
  for (int k = 0; k < extra; ++k)
    code = (code << 6) | (static_cast<unsigned char>(s[i + 1 + k]) & 0x3F);
  i += extra;
  return code;
}

void dump_string(std::string& out, const std::string& s) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20) {
      put_u16(out, c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      unsigned code = decode_utf8(s, i);
      if (code >= 0x10000) {
        code -= 0x10000;
        put_u16(out, 0xD800 + (code >> 10));
        put_u16(out, 0xDC00 + (code & 0x3FF));
      } else {
        put_u16(out, code);
      }
    }
  }
  out += '"';
}

void dump(std::string& out, const json& v, int indent, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    out.append(static_cast<std::size_t>(indent * d), ' ');
  };
  switch (v.type()) {
    case json::value_t::null: out += "null"; break;
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case json::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); break;
    case json::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); break;
    case json::value_t::number_float: {
      double d = v.get<double>();
      out += std::isnan(d)   ? "NaN"
             : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity")
                             : python_float_repr(d);
      break;
    }
    case json::value_t::string: dump_string(out, v.get_ref<const std::string&>()); break;
    case json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        break;
      }
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first)
          out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0)
          newline(depth + 1);
        dump(out, item, indent, depth + 1);
      }
      if (indent >= 0)
        newline(depth);
      out += ']';
      break;
    }
    case json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        break;
      }
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first)
          out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0)
          newline(depth + 1);
        dump_string(out, it.key());
        out += ": ";
        dump(out, it.value(), indent, depth + 1);
      }
      if (indent >= 0)
        newline(depth);
      out += '}';
      break;
    }
    default: out += "null"; break;
  }
}

} // namespace

std::string python_json_dumps(const json& v, int indent) {
  std::string out;
  dump(out, v, indent, 0);
  return out;
}

} // namespace mistral

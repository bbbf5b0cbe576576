#include "dsl/py_json.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace mistral::dsl {

namespace {

struct failure {
  std::string what;
  std::size_t pos;
};

struct parser {
  std::string_view s;
  std::size_t i = 0;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
      ++i;
  }

  [[noreturn]] void fail(const char* what, std::size_t pos) { throw failure{what, pos}; }

  json value() {
    if (i >= s.size())
      fail("Expecting value", i);
    char c = s[i];
    if (c == '"')
      return string();
    if (c == '{')
      return object();
    if (c == '[')
      return array();
    if (s.substr(i, 4) == "null") {
      i += 4;
      return nullptr;
    }
    if (s.substr(i, 4) == "true") {
      i += 4;
      return true;
    }
    if (s.substr(i, 5) == "false") {
      i += 5;
      return false;
    }
    if (s.substr(i, 3) == "NaN") {
      i += 3;
      return std::numeric_limits<double>::quiet_NaN();
    }
    if (s.substr(i, 8) == "Infinity") {
      i += 8;
      return std::numeric_limits<double>::infinity();
    }
    if (s.substr(i, 9) == "-Infinity") {
      i += 9;
      return -std::numeric_limits<double>::infinity();
    }
    if (c == '-' || (c >= '0' && c <= '9'))
      return number();
    fail("Expecting value", i);
  }

  json number() {
    std::size_t start = i;
    if (s[i] == '-')
      ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i])))
      fail("Expecting value", start);
    if (s[i] == '0')
      ++i;
    else
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
        ++i;
    bool is_float = false;
    if (i + 1 < s.size() && s[i] == '.' && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      is_float = true;
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
        ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      std::size_t j = i + 1;
      if (j < s.size() && (s[j] == '+' || s[j] == '-'))
        ++j;
      if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
        is_float = true;
        i = j;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
          ++i;
      }
    }
    std::string text(s.substr(start, i - start));
    if (is_float)
      return std::stod(text);
    try {
      return static_cast<std::int64_t>(std::stoll(text));
    } catch (...) {
      return std::stod(text);
    }
  }

  json string() {
    std::size_t start = i++;
    std::string out;
    while (true) {
      if (i >= s.size())
        fail("Unterminated string starting at", start);
      char c = s[i];
      if (c == '"') {
        ++i;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        fail("Invalid control character at", i);
      if (c != '\\') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= s.size())
        fail("Unterminated string starting at", start);
      char e = s[i + 1];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (i + 6 > s.size())
            fail("Invalid \\uXXXX escape", i + 1);
          unsigned cp = 0;
          for (std::size_t k = i + 2; k < i + 6; ++k) {
            if (!std::isxdigit(static_cast<unsigned char>(s[k])))
              fail("Invalid \\uXXXX escape", i + 1);
            cp = cp * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(s[k]))
                                                   ? s[k] - '0'
                                                   : std::tolower(s[k]) - 'a' + 10);
          }
          append_utf8(out, cp);
          i += 6;
          continue;
        }
        default: fail("Invalid \\escape", i);
      }
      i += 2;
    }
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  json array() {
    ++i;
    json out = json::array();
    ws();
    if (i < s.size() && s[i] == ']') {
      ++i;
      return out;
    }
    while (true) {
      ws();
      out.push_back(value());
      ws();
      if (i < s.size() && s[i] == ']') {
        ++i;
        return out;
      }
      if (i >= s.size() || s[i] != ',')
        fail("Expecting ',' delimiter", i);
      ++i;
    }
  }

  json object() {
    ++i;
    json out = json::object();
    ws();
    if (i < s.size() && s[i] == '}') {
      ++i;
      return out;
    }
    while (true) {
      ws();
      if (i >= s.size() || s[i] != '"')
        fail("Expecting property name enclosed in double quotes", i);
      std::string key = string().get<std::string>();
      ws();
      if (i >= s.size() || s[i] != ':')
        fail("Expecting ':' delimiter", i);
      ++i;
      ws();
      out[key] = value();
      ws();
      if (i < s.size() && s[i] == '}') {
        ++i;
        return out;
      }
      if (i >= s.size() || s[i] != ',')
        fail("Expecting ',' delimiter", i);
      ++i;
    }
  }
};

} // namespace

result<json> py_json_loads(std::string_view text) {
  parser p{text};
  try {
    p.ws();
    json v = p.value();
    std::size_t end = p.i;
    p.ws();
    if (p.i != text.size())
      throw failure{"Extra data", p.i};
    (void)end;
    return v;
  } catch (const failure& f) {
    std::size_t line = 1, last_nl = std::string_view::npos;
    for (std::size_t k = 0; k < f.pos && k < text.size(); ++k)
      if (text[k] == '\n') {
        ++line;
        last_nl = k;
      }
    std::size_t col = last_nl == std::string_view::npos ? f.pos + 1 : f.pos - last_nl;
    return error{errc::invalid_input,
                 f.what + ": line " + std::to_string(line) + " column " + std::to_string(col) + " (char " +
                   std::to_string(f.pos) + ")",
                 "JSONDecodeError"};
  }
}

} // namespace mistral::dsl

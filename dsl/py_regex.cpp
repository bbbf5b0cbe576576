#include "dsl/py_regex.hpp"

#include <map>
#include <mutex>
#include <regex>

namespace mistral::dsl {

namespace {

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// `^OPEN.*?CLOSE\s*$`: OPEN at the start, then some CLOSE that is reached
// without crossing a newline and is followed by whitespace only.
bool whole(std::string_view text, std::string_view open, std::string_view close) noexcept {
  if (text.substr(0, open.size()) != open)
    return false;
  for (std::size_t p = open.size(); p + close.size() <= text.size(); ++p) {
    if (text[p] == '\n')
      return false;
    if (text.substr(p, close.size()) != close)
      continue;
    bool rest_blank = true;
    for (std::size_t i = p + close.size(); i < text.size(); ++i)
      if (!is_space(text[i])) {
        rest_blank = false;
        break;
      }
    if (rest_blank)
      return true;
  }
  return false;
}

const std::regex& compiled(std::string_view pattern) {
  static std::mutex mu;
  static std::map<std::string, std::regex, std::less<>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(pattern);
  if (it == cache.end())
    it = cache.emplace(std::string(pattern), std::regex(to_ecmascript(pattern))).first;
  return it->second;
}

} // namespace

bool is_whole_yaql(std::string_view text) noexcept {
  return whole(text, "<%", "%>");
}

bool is_whole_jinja(std::string_view text) noexcept {
  return whole(text, "{{", "}}");
}

std::string to_ecmascript(std::string_view p) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[++i];
      if (e == 'w') {
        // Python's \w is Unicode-aware: count every UTF-8 byte of a
        // non-ASCII character as a word character (close enough for names).
        out += in_class ? "\\w\\x80-\\xff" : "[\\w\\x80-\\xff]";
        continue;
      }
      out += c;
      out += e;
      continue;
    }
    if (in_class) {
      if (c == ']')
        in_class = false;
      out += c;
      continue;
    }
    switch (c) {
      case '[':
        in_class = true;
        out += c;
        break;
      case '$': out += "(?=\\n?$)"; break; // Python: end, or before a final newline
      case '.': out += "[^\\n]"; break;    // Python: anything but a newline
      case '{':
      case '}':
        // A literal brace (Mistral's `{{ }}` patterns); quantifier braces are
        // not used by any DSL pattern.
        out += '\\';
        out += c;
        break;
      default: out += c;
    }
  }
  return out;
}

bool py_search(std::string_view pattern, std::string_view text) {
  if (pattern == "^<%.*?%>\\s*$")
    return is_whole_yaql(text);
  if (pattern == "^({{(.*?)}})\\s*$")
    return is_whole_jinja(text);
  const std::regex& re = compiled(pattern);
  return std::regex_search(text.begin(), text.end(), re);
}

} // namespace mistral::dsl

#include "dsl/inline_params.hpp"

#include "dsl/py_json.hpp"
#include "dsl/py_regex.hpp"

#include <regex>

namespace mistral::dsl {

namespace {

// ACTION_PATTERNS joined: command | inline YAQL | any Jinja.
const std::regex& cmd_re() {
  static const std::regex re(to_ecmascript(R"(^([\w\.]+[^=\(\s"]*|<%.*?%>|{{.*}}|{%.*%}))"));
  return re;
}

// PARAMS_PTRN: key=(quoted | 'quoted' | {{ }} | <% %> | [..] | true | false | null | digits).
const std::regex& params_re() {
  static const std::regex re(
    to_ecmascript(R"(([-_\w]+)=("[^"]*"\s*|'[^']*'\s*|({{(.*?)}})|<%.*?%>|\[.*\]\s*|true|false|null|\d+))"));
  return re;
}

const std::regex& with_items_re() {
  static const std::regex re(to_ecmascript(R"(\s*([\w\d_\-]+)\s*in\s*(\[.+\]|({{(.*?)}})|<%.*?%>))"));
  return re;
}

std::string strip(std::string s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  std::size_t b = 0, e = s.size();
  while (b < e && ws(s[b]))
    ++b;
  while (e > b && ws(s[e - 1]))
    --e;
  return s.substr(b, e - b);
}

} // namespace

result<command_call> parse_command(std::string_view text) {
  command_call out;
  if (text.find(' ') == std::string_view::npos) {
    out.command = std::string(text);
    return out;
  }
  std::string s(text);
  std::smatch m;
  if (!std::regex_search(s, m, cmd_re()))
    return error{errc::invalid_input, "Invalid action/workflow task property: " + s, "InvalidModelException"};
  out.command = m.str(0);
  for (auto it = std::sregex_iterator(s.begin(), s.end(), params_re()); it != std::sregex_iterator(); ++it) {
    std::string key = (*it)[1].str();
    std::string v = strip((*it)[2].str());
    json value;
    if (!v.empty() && (v[0] == '"' || v[0] == '\'')) {
      value = v.substr(1, v.size() - 2);
    } else if (auto parsed = py_json_loads(v)) {
      value = std::move(*parsed);
    } else {
      value = v;
    }
    out.params[key] = std::move(value);
  }
  return out;
}

std::optional<with_items_match> match_with_items(std::string_view text) {
  std::string s(text);
  std::smatch m;
  if (!std::regex_search(s, m, with_items_re(), std::regex_constants::match_continuous))
    return std::nullopt;
  return with_items_match{m.str(1), m.str(2)};
}

} // namespace mistral::dsl

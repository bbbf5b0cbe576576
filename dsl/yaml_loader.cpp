#include "dsl/yaml_loader.hpp"

#include "dsl/py_repr.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <limits>
#include <optional>
#include <regex>
#include <utility>
#include <vector>

namespace mistral::dsl {

namespace {

// Mistral's SafeLoader lets a plain scalar start with '@', yaml-cpp does not:
// such an '@' is swapped for a private-use character before parsing and
// swapped back in every scalar.
constexpr const char* at_placeholder = "\xEE\x80\x80";
// Mistral's SafeLoader also reads '&' (anchor) and '*' (alias) as the start of
// a plain scalar ("&a 1" is the string '&a 1'), to shut out alias bombs.
constexpr const char* amp_placeholder = "\xEE\x80\x81";
constexpr const char* star_placeholder = "\xEE\x80\x82";

// ---------------------------------------------------------------------------
// PyYAML-style error texts

/// One position in the text, 0-based like PyYAML's Mark, with its snippet.
struct py_mark {
  std::size_t pointer = 0;
  int line = 0;
  int column = 0;
};

py_mark mark_at(std::string_view text, std::size_t pointer) {
  py_mark m;
  m.pointer = std::min(pointer, text.size());
  for (std::size_t i = 0; i < m.pointer; ++i) {
    if (text[i] == '\n') {
      ++m.line;
      m.column = 0;
    } else {
      ++m.column;
    }
  }
  return m;
}

py_mark mark_of(std::string_view text, const YAML::Mark& ym) {
  if (ym.pos < 0)
    return mark_at(text, text.size());
  return mark_at(text, static_cast<std::size_t>(ym.pos));
}

// PyYAML's Mark.get_snippet(indent=4, max_length=75).
std::string snippet(std::string_view text, std::size_t pointer) {
  auto is_break = [](char c) { return c == '\0' || c == '\r' || c == '\n'; };
  std::string head, tail;
  std::size_t start = pointer;
  while (start > 0 && !is_break(text[start - 1])) {
    --start;
    if (pointer - start > 75 / 2 - 1) {
      head = " ... ";
      start += 5;
      break;
    }
  }
  std::size_t end = pointer;
  while (end < text.size() && !is_break(text[end])) {
    ++end;
    if (end - pointer > 75 / 2 - 1) {
      tail = " ... ";
      end -= 5;
      break;
    }
  }
  std::string out = "    " + head + std::string(text.substr(start, end - start)) + tail + "\n";
  out += std::string(4 + pointer - start + head.size(), ' ') + "^";
  return out;
}

std::string mark_text(std::string_view text, const py_mark& m) {
  return "  in \"<unicode string>\", line " + std::to_string(m.line + 1) + ", column " +
         std::to_string(m.column + 1) + ":\n" + snippet(text, m.pointer);
}

/// PyYAML's MarkedYAMLError.__str__, wrapped as Mistral's parse_yaml does.
error yaml_error(std::string_view text, const std::string& context, std::optional<py_mark> context_mark,
                 const std::string& problem, std::optional<py_mark> problem_mark) {
  std::string msg;
  auto add = [&](const std::string& line) {
    if (!msg.empty())
      msg += "\n";
    msg += line;
  };
  if (!context.empty())
    add(context);
  if (context_mark && (!problem_mark || context_mark->line != problem_mark->line ||
                       context_mark->column != problem_mark->column))
    add(mark_text(text, *context_mark));
  if (!problem.empty())
    add(problem);
  if (problem_mark)
    add(mark_text(text, *problem_mark));
  return error{errc::invalid_input, "Definition could not be parsed: " + msg + "\n", "DSLParsingException"};
}

std::string char_repr(char c) {
  switch (c) {
    case '\t': return "'\\t'";
    case '\'': return "\"'\"";
    case '\\': return "'\\\\'";
    default: return std::string("'") + c + "'";
  }
}

// What PyYAML rejects and yaml-cpp accepts, found by a light scan of the
// text: a tab wherever a token could start (anywhere outside quoted scalars,
// block scalar content and comments), and a quoted scalar left open at the
// end of the stream.
struct prescan_result {
  std::optional<std::size_t> tab;            ///< offset of the first offending tab
  std::optional<std::size_t> open_quote;     ///< offset of an unterminated quote
  std::vector<std::size_t> plain_indicators; ///< '&' / '*' where a node starts
};

prescan_result prescan(std::string_view text) {
  prescan_result out;
  char quote = 0; // inside a quoted scalar (which may span lines)
  std::size_t quote_at = 0;
  int flow_depth = 0;    // open flow collections ('[' / '{' that started a node)
  int block_parent = -1; // indentation of the line that opened a block scalar
  int block_indent = -1; // content indentation of that block scalar
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos)
      eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    int spaces = 0;
    while (spaces < static_cast<int>(line.size()) && line[spaces] == ' ')
      ++spaces;
    bool blank = spaces == static_cast<int>(line.size());
    if (block_parent >= 0 && !quote) {
      if (blank) {
        pos = eol + 1;
        continue;
      }
      if (block_indent < 0 && spaces > block_parent)
        block_indent = spaces;
      if (block_indent >= 0 && spaces >= block_indent) {
        pos = eol + 1;
        continue;
      }
      block_parent = block_indent = -1;
    }
    // A quote opens a quoted scalar only where a node starts: at the start
    // of the line's content or after an indicator (": ", "- ", "[", "{", ",").
    char last = 0;        // last non-space character seen on this line
    char token_first = 0; // first character of the current/last token
    for (std::size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (quote == '\'' && c == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
        } else if (quote == '"' && c == '\\') {
          ++i;
        } else if (c == quote) {
          quote = 0;
          last = c;
        }
        continue;
      }
      if (c == '\t') {
        if (!out.tab)
          out.tab = pos + i;
        continue;
      }
      if (c == '#' && (i == 0 || line[i - 1] == ' '))
        break;
      bool after_space = i > 0 && line[i - 1] == ' ';
      bool node_start = last == 0 || (flow_depth > 0 && (last == '[' || last == '{' || last == ',')) ||
                        ((last == ':' || last == '-' || last == '?') && (after_space || flow_depth > 0)) ||
                        ((token_first == '!' || token_first == '&') && after_space);
      if (c != ' ' && (i == 0 || line[i - 1] == ' '))
        token_first = c;
      if (node_start && (c == '&' || c == '*')) {
        out.plain_indicators.push_back(pos + i);
        last = 'x'; // the rest of the token is plain text
        continue;
      }
      if ((node_start || (flow_depth > 0 && (last == '[' || last == '{' || last == ','))) &&
          (c == '[' || c == '{')) {
        ++flow_depth;
        last = c;
        continue;
      }
      if (flow_depth > 0 && (c == ']' || c == '}'))
        --flow_depth;
      if (node_start && (c == '\'' || c == '"')) {
        quote = c;
        quote_at = pos + i;
        continue;
      }
      if (node_start && (c == '|' || c == '>')) {
        std::size_t j = i + 1;
        while (j < line.size() && (line[j] == '-' || line[j] == '+' || (line[j] >= '0' && line[j] <= '9')))
          ++j;
        while (j < line.size() && line[j] == ' ')
          ++j;
        if (j == line.size() || line[j] == '#') {
          block_parent = spaces;
          block_indent = -1;
          break;
        }
      }
      if (c != ' ')
        last = c;
    }
    if (eol == text.size())
      break;
    pos = eol + 1;
  }
  if (quote)
    out.open_quote = quote_at;
  return out;
}

// Line helpers for reading PyYAML's intent around a yaml-cpp error.
struct text_line {
  std::size_t begin = 0; ///< offset of the first character
  std::string_view body; ///< without the newline
  int indent = 0;        ///< leading spaces
  bool blank = true;     ///< empty, spaces only or a comment
};

std::vector<text_line> split_lines(std::string_view text) {
  std::vector<text_line> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos)
      eol = text.size();
    text_line l;
    l.begin = pos;
    l.body = text.substr(pos, eol - pos);
    while (l.indent < static_cast<int>(l.body.size()) && l.body[l.indent] == ' ')
      ++l.indent;
    l.blank = l.indent == static_cast<int>(l.body.size()) || l.body[l.indent] == '#';
    out.push_back(l);
    if (eol == text.size())
      break;
    pos = eol + 1;
  }
  return out;
}

// True when the line holds a "key:" indicator (": " or a final ':').
bool has_value_indicator(std::string_view body) {
  for (std::size_t i = 0; i < body.size(); ++i)
    if (body[i] == ':' && (i + 1 == body.size() || body[i + 1] == ' '))
      return true;
  return false;
}

/// "mapping values are not allowed here" (a ':' after a value on the same
/// line, or ending a multi-line value) or "while scanning a simple key" (a
/// bare scalar line where a key was required), as PyYAML tells them apart.
error map_value_error(std::string_view text, const py_mark& m) {
  auto lines = split_lines(text);
  if (m.line < static_cast<int>(lines.size())) {
    std::string_view cur =
      lines[m.line].body.substr(0, std::min<std::size_t>(m.column, lines[m.line].body.size()));
    if (!has_value_indicator(cur)) {
      int p = m.line - 1;
      while (p >= 0 && lines[p].blank)
        --p;
      if (p >= 0 && !has_value_indicator(lines[p].body)) {
        int start = p;
        while (start - 1 >= 0 && !lines[start - 1].blank && !has_value_indicator(lines[start - 1].body))
          --start;
        return yaml_error(text, "while scanning a simple key",
                          mark_at(text, lines[start].begin + lines[start].indent),
                          "could not find expected ':'", m);
      }
    }
  }
  return yaml_error(text, "", {}, "mapping values are not allowed here", m);
}

/// yaml-cpp's "end of map not found": PyYAML names the collection that is
/// open at that indentation, a block sequence or a block mapping.
error end_of_block_error(std::string_view text, const py_mark& m) {
  auto lines = split_lines(text);
  int indent = m.line < static_cast<int>(lines.size()) ? lines[m.line].indent : 0;
  for (int p = m.line - 1; p >= 0; --p) {
    if (lines[p].blank || lines[p].indent > indent)
      continue;
    std::string_view rest = lines[p].body.substr(lines[p].indent);
    if (rest.rfind("- ", 0) == 0 || rest == "-")
      return yaml_error(text, "while parsing a block collection",
                        mark_at(text, lines[p].begin + lines[p].indent),
                        "expected <block end>, but found '?'", m);
    return yaml_error(text, "while parsing a block mapping", mark_at(text, lines[p].begin + lines[p].indent),
                      "expected <block end>, but found '<block mapping start>'", m);
  }
  return yaml_error(text, "while parsing a block mapping", {},
                    "expected <block end>, but found '<block mapping start>'", m);
}

/// Offset of an explicit second document ('---' at the start of a line once
/// a document has begun), if any.
std::optional<std::size_t> second_explicit_document(std::string_view text) {
  bool started = false;
  for (const auto& l : split_lines(text)) {
    bool marker =
      l.body.rfind("---", 0) == 0 && (l.body.size() == 3 || l.body[3] == ' ' || l.body[3] == '\r');
    bool end_marker =
      l.body.rfind("...", 0) == 0 && (l.body.size() == 3 || l.body[3] == ' ' || l.body[3] == '\r');
    if (marker) {
      if (started)
        return l.begin;
      started = true;
      continue;
    }
    if (end_marker)
      continue;
    if (!l.blank && l.body[0] != '%')
      started = true;
  }
  return std::nullopt;
}

/// An unclosed flow collection: PyYAML shows where it opened and the token
/// found instead of ',' or the closing bracket.
error flow_error(std::string_view text, const py_mark& m, char open) {
  char close = open == '[' ? ']' : '}';
  std::optional<py_mark> opened;
  int depth = 0;
  for (std::size_t i = std::min(m.pointer, text.size()); i-- > 0;) {
    char c = text[i];
    if (c == ']' || c == '}') {
      ++depth;
    } else if (c == '[' || c == '{') {
      if (depth == 0) {
        if (c == open)
          opened = mark_at(text, i);
        break;
      }
      --depth;
    }
  }
  std::string got = "<stream end>";
  if (m.pointer < text.size()) {
    char c = text[m.pointer];
    got = std::string_view(":{}[],?-").find(c) != std::string_view::npos ? std::string(1, c) : "<scalar>";
  }
  return yaml_error(text, open == '[' ? "while parsing a flow sequence" : "while parsing a flow mapping",
                    opened, std::string("expected ',' or '") + close + "', but got '" + got + "'", m);
}

/// Translates a yaml-cpp parse error into PyYAML's wording.
error translate(std::string_view text, const YAML::Exception& e) {
  py_mark m = mark_of(text, e.mark);
  const std::string& msg = e.msg;
  auto starts = [&](const char* s) { return msg.rfind(s, 0) == 0; };
  if (starts(YAML::ErrorMsg::MAP_VALUE))
    return map_value_error(text, m);
  if (starts(YAML::ErrorMsg::MAP_KEY))
    return yaml_error(text, "", {}, "mapping keys are not allowed here", m);
  if (starts(YAML::ErrorMsg::BLOCK_ENTRY))
    return yaml_error(text, "", {}, "block sequence entries are not allowed here", m);
  if (starts(YAML::ErrorMsg::END_OF_MAP_FLOW))
    return flow_error(text, m, '{');
  if (starts(YAML::ErrorMsg::END_OF_SEQ_FLOW))
    return flow_error(text, m, '[');
  if (starts(YAML::ErrorMsg::END_OF_MAP))
    return end_of_block_error(text, m);
  if (starts(YAML::ErrorMsg::END_OF_SEQ))
    return yaml_error(text, "while parsing a block collection", {}, "expected <block end>, but found '?'", m);
  if (starts(YAML::ErrorMsg::UNKNOWN_TOKEN) || starts("illegal tab")) {
    char c = m.pointer < text.size() ? text[m.pointer] : '\0';
    return yaml_error(text, "while scanning for the next token", {},
                      "found character " + char_repr(c) + " that cannot start any token", m);
  }
  if (starts(YAML::ErrorMsg::EOF_IN_SCALAR))
    return yaml_error(text, "while scanning a quoted scalar", {}, "found unexpected end of stream", m);
  if (starts(YAML::ErrorMsg::INVALID_ESCAPE))
    return yaml_error(text, "while scanning a double-quoted scalar", {}, "found unknown escape character", m);
  if (starts(YAML::ErrorMsg::UNKNOWN_ANCHOR))
    return yaml_error(text, "found undefined alias", {}, "", m);
  return yaml_error(text, "while parsing a block node", {}, msg, m);
}

// ---------------------------------------------------------------------------
// YAML 1.1 scalar typing (PyYAML's Resolver and SafeConstructor)

const std::regex& bool_re() {
  static const std::regex re("yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF");
  return re;
}
const std::regex& float_re() {
  static const std::regex re("[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
                             "|\\.[0-9_]+(?:[eE][-+][0-9]+)?"
                             "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
                             "|[-+]?\\.(?:inf|Inf|INF)"
                             "|\\.(?:nan|NaN|NAN)");
  return re;
}
const std::regex& int_re() {
  static const std::regex re("[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
                             "|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+");
  return re;
}

const std::regex& timestamp_re() {
  static const std::regex re("([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)"
                             "(?:(?:[Tt]|[ \\t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\\.([0-9]*))?"
                             "(?:[ \\t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?)?");
  return re;
}

// Python's repr of the date/datetime PyYAML builds from a timestamp.
std::string timestamp_repr(const std::smatch& m) {
  auto num = [&](int i) { return std::to_string(std::stoi(m.str(i))); };
  std::string out = num(1) + ", " + num(2) + ", " + num(3);
  if (!m[4].matched)
    return "datetime.date(" + out + ")";
  out += ", " + num(4) + ", " + num(5);
  std::string frac = m[8].matched ? m.str(8).substr(0, 6) : "";
  while (!frac.empty() && frac.size() < 6)
    frac += '0';
  int micro = frac.empty() ? 0 : std::stoi(frac);
  int second = std::stoi(m.str(6));
  if (second || micro)
    out += ", " + std::to_string(second);
  if (micro)
    out += ", " + std::to_string(micro);
  if (m[9].matched) {
    if (m.str(9) == "Z") {
      out += ", tzinfo=datetime.timezone.utc";
    } else {
      int minutes = std::stoi(m.str(11)) * 60 + (m[12].matched ? std::stoi(m.str(12)) : 0);
      if (m.str(10) == "-")
        minutes = -minutes;
      int secs = minutes * 60;
      int days = secs < 0 ? -1 : 0;
      secs -= days * 86400;
      std::string delta =
        days ? "days=-1, seconds=" + std::to_string(secs) : "seconds=" + std::to_string(secs);
      out += secs == 0 && days == 0 ? ", tzinfo=datetime.timezone.utc"
                                    : ", tzinfo=datetime.timezone(datetime.timedelta(" + delta + "))";
    }
  }
  return "datetime.datetime(" + out + ")";
}

json make_int(const std::string& raw) {
  std::string v;
  for (char c : raw)
    if (c != '_')
      v += c;
  bool negative = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    negative = v[0] == '-';
    v.erase(0, 1);
  }
  long double acc = 0;
  if (v == "0") {
    acc = 0;
  } else if (v.rfind("0b", 0) == 0) {
    for (char c : v.substr(2))
      acc = acc * 2 + (c - '0');
  } else if (v.rfind("0x", 0) == 0) {
    for (char c : v.substr(2))
      acc = acc * 16 + (std::isdigit(static_cast<unsigned char>(c))
                          ? c - '0'
                          : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
  } else if (v[0] == '0') {
    for (char c : v.substr(1))
      acc = acc * 8 + (c - '0');
  } else if (v.find(':') != std::string::npos) {
    long double part = 0;
    for (char c : v) {
      if (c == ':') {
        acc = acc * 60 + part;
        part = 0;
      } else {
        part = part * 10 + (c - '0');
      }
    }
    acc = acc * 60 + part;
  } else {
    for (char c : v)
      acc = acc * 10 + (c - '0');
  }
  if (negative)
    acc = -acc;
  if (acc >= static_cast<long double>(std::numeric_limits<std::int64_t>::min()) &&
      acc <= static_cast<long double>(std::numeric_limits<std::int64_t>::max()))
    return json(static_cast<std::int64_t>(acc));
  if (acc > 0 && acc <= static_cast<long double>(std::numeric_limits<std::uint64_t>::max()))
    return json(static_cast<std::uint64_t>(acc));
  return json(static_cast<double>(acc));
}

json make_float(const std::string& raw) {
  std::string v;
  for (char c : raw)
    if (c != '_')
      v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double sign = 1;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    if (v[0] == '-')
      sign = -1;
    v.erase(0, 1);
  }
  if (v == ".inf")
    return json(sign * std::numeric_limits<double>::infinity());
  if (v == ".nan")
    return json(std::numeric_limits<double>::quiet_NaN());
  if (v.find(':') != std::string::npos) {
    double acc = 0, part = 0;
    std::size_t dot = v.find('.');
    std::string whole = v.substr(0, dot);
    for (char c : whole) {
      if (c == ':') {
        acc = acc * 60 + part;
        part = 0;
      } else {
        part = part * 10 + (c - '0');
      }
    }
    acc = acc * 60 + part;
    if (dot != std::string::npos && dot + 1 < v.size())
      acc += std::stod("0" + v.substr(dot));
    return json(sign * acc);
  }
  return json(sign * std::stod(v));
}

/// The implicit type of a plain scalar, as PyYAML's resolver decides it.
json resolve_plain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
    return json(nullptr);
  if (s.size() > 64)
    return json(s); // no YAML 1.1 number or bool is that long
  char c = s[0];
  if (std::string_view("yYnNtTfFoO").find(c) != std::string_view::npos && std::regex_match(s, bool_re())) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return json(l == 'y' || l == 't' || (l == 'o' && s.size() == 2));
  }
  if (std::string_view("-+0123456789.").find(c) != std::string_view::npos) {
    if (std::regex_match(s, float_re()))
      return make_float(s);
    if (std::regex_match(s, int_re()))
      return make_int(s);
    std::smatch m;
    if (std::regex_match(s, m, timestamp_re()))
      return make_timestamp(timestamp_repr(m), s);
  }
  return json(s);
}

// ---------------------------------------------------------------------------
// Tree conversion

struct converter {
  std::string_view text;
  std::unordered_map<std::string, yaml_mark>& marks;
  bool substituted_at = false; ///< the text had '@' replaced by at_placeholder
  bool timestamps = false;     ///< a timestamp was seen

  std::string restore(const std::string& s) const {
    if (!substituted_at || s.find("\xEE\x80") == std::string::npos)
      return s;
    std::string out = s;
    for (auto [from, to] :
         {std::pair{at_placeholder, "@"}, std::pair{amp_placeholder, "&"}, std::pair{star_placeholder, "*"}})
      for (std::size_t p; (p = out.find(from)) != std::string::npos;)
        out.replace(p, std::string_view(from).size(), to);
    return out;
  }

  void remember(const std::string& path, const YAML::Mark& m) {
    marks[path] = yaml_mark{m.line + 1, m.column + 1};
  }

  result<json> scalar(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    if (node.IsNull())
      return json(nullptr);
    const std::string& s = node.Scalar();
    if (tag == "?") {
      if (s == "=" || s == "<<")
        return yaml_error(text, "", {},
                          std::string("could not determine a constructor for the tag "
                                      "'tag:yaml.org,2002:") +
                            (s == "=" ? "value'" : "merge'"),
                          mark_of(text, node.Mark()));
      json v = resolve_plain(restore(s));
      timestamps = timestamps || is_timestamp(v);
      return v;
    }
    if (tag == "!" || tag.empty() || tag == "tag:yaml.org,2002:str")
      return json(restore(s));
    if (tag == "tag:yaml.org,2002:int" && std::regex_match(s, int_re()))
      return make_int(s);
    if (tag == "tag:yaml.org,2002:float" &&
        (std::regex_match(s, float_re()) || std::regex_match(s, int_re())))
      return make_float(s);
    if (tag == "tag:yaml.org,2002:bool" && std::regex_match(s, bool_re()))
      return resolve_plain(s);
    if (tag == "tag:yaml.org,2002:null")
      return json(nullptr);
    return yaml_error(text, "", {}, "could not determine a constructor for the tag '" + tag + "'",
                      mark_of(text, node.Mark()));
  }

  static const char* node_id(const YAML::Node& n) {
    return n.IsMap() ? "mapping" : n.IsSequence() ? "sequence" : "scalar";
  }

  // PyYAML's SafeConstructor.flatten_mapping: '<<' entries are replaced by
  // the pairs they merge, placed before the mapping's own pairs.
  result<std::vector<std::pair<YAML::Node, YAML::Node>>> flatten(const YAML::Node& node) {
    std::vector<std::pair<YAML::Node, YAML::Node>> own, merged;
    for (const auto& kv : node) {
      // Copies: yaml-cpp's iterator hands out a temporary proxy pair.
      const YAML::Node k = kv.first;
      const YAML::Node v = kv.second;
      if (!(k.IsScalar() && k.Tag() == "?" && k.Scalar() == "<<")) {
        own.emplace_back(k, v);
        continue;
      }
      auto bad = [&](const YAML::Node& n, const char* what) -> error {
        return yaml_error(text, "while constructing a mapping", mark_of(text, node.Mark()),
                          std::string(what) + node_id(n), mark_of(text, n.Mark()));
      };
      if (v.IsMap()) {
        auto sub = flatten(v);
        if (!sub)
          return std::move(sub).err();
        merged.insert(merged.end(), sub->begin(), sub->end());
      } else if (v.IsSequence()) {
        std::vector<std::vector<std::pair<YAML::Node, YAML::Node>>> parts;
        for (const auto& item : v) {
          if (!item.IsMap())
            return bad(item, "expected a mapping for merging, but found ");
          auto sub = flatten(item);
          if (!sub)
            return std::move(sub).err();
          parts.push_back(std::move(*sub));
        }
        for (auto p = parts.rbegin(); p != parts.rend(); ++p)
          merged.insert(merged.end(), p->begin(), p->end());
      } else {
        return bad(v, "expected a mapping or list of mappings for merging, but found ");
      }
    }
    merged.insert(merged.end(), own.begin(), own.end());
    return merged;
  }

  // yaml-cpp reads a lone plain scalar line inside a block mapping as a key
  // with a null value; PyYAML requires the ':' ("could not find expected ':'").
  std::optional<error> bare_key(const YAML::Node& map_node, const YAML::Node& k) const {
    if (map_node.Style() == YAML::EmitterStyle::Flow || !k.IsScalar() || k.Tag() != "?" || k.Mark().pos < 0)
      return std::nullopt;
    std::size_t pos = static_cast<std::size_t>(k.Mark().pos);
    const std::string& key = k.Scalar();
    if (substituted_at || text.substr(pos, key.size()) != key)
      return std::nullopt;
    std::size_t before = pos;
    while (before > 0 && text[before - 1] == ' ')
      --before;
    if (before > 0 && text[before - 1] == '?') // explicit "? key" entry
      return std::nullopt;
    std::size_t after = pos + key.size();
    while (after < text.size() && text[after] == ' ')
      ++after;
    if (after < text.size() && text[after] == ':')
      return std::nullopt;
    std::size_t next = text.find('\n', pos);
    next = next == std::string_view::npos ? text.size() : next + 1;
    while (next < text.size()) { // the next token: skip blank and comment lines
      std::size_t i = next;
      while (i < text.size() && text[i] == ' ')
        ++i;
      if (i < text.size() && text[i] != '\n' && text[i] != '#') {
        next = i;
        break;
      }
      std::size_t eol = text.find('\n', i);
      next = eol == std::string_view::npos ? text.size() : eol + 1;
    }
    return yaml_error(text, "while scanning a simple key", mark_at(text, pos), "could not find expected ':'",
                      mark_at(text, next));
  }

  result<json> map(const YAML::Node& node, const std::string& path) {
    auto pairs = flatten(node);
    if (!pairs)
      return std::move(pairs).err();
    json out = json::object();
    for (const auto& [k, v] : *pairs) {
      if (k.IsMap() || k.IsSequence())
        return yaml_error(text, "while constructing a mapping", mark_of(text, node.Mark()),
                          "found unhashable key", mark_of(text, k.Mark()));
      if (auto bare = bare_key(node, k))
        return *bare;
      std::string key;
      if (k.IsNull()) {
        key = "None";
      } else {
        auto typed = scalar(k);
        if (!typed)
          return std::move(typed).err();
        key = restore(k.Scalar());
      }
      std::string child = path + "/" + pointer_escape(key);
      auto value = any(v, child);
      if (!value)
        return value;
      out[key] = std::move(*value); // a repeated key keeps its place, last value wins
      remember(child, k.Mark());
    }
    return out;
  }

  result<json> seq(const YAML::Node& node, const std::string& path) {
    json out = json::array();
    std::size_t i = 0;
    for (const auto& item : node) {
      std::string child = path + "/" + std::to_string(i++);
      auto value = any(item, child);
      if (!value)
        return value;
      remember(child, item.Mark());
      out.push_back(std::move(*value));
    }
    return out;
  }

  result<json> any(const YAML::Node& node, const std::string& path) {
    if (node.IsMap())
      return map(node, path);
    if (node.IsSequence())
      return seq(node, path);
    return scalar(node);
  }
};

} // namespace

std::string pointer_escape(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

yaml_mark loaded_yaml::find_mark(std::string pointer) const {
  while (true) {
    if (auto it = marks.find(pointer); it != marks.end())
      return it->second;
    if (pointer.empty())
      return {};
    auto slash = pointer.rfind('/');
    pointer.resize(slash == std::string::npos ? 0 : slash);
  }
}

result<loaded_yaml> load_yaml(std::string_view text) {
  // PyYAML stops at the first problem in the text: whichever of a tab, a
  // second document or yaml-cpp's error comes first is reported.
  prescan_result pre = prescan(text);
  std::optional<std::size_t> second_doc = second_explicit_document(text);
  auto tab_error = [&] {
    return yaml_error(text, "while scanning for the next token", {},
                      "found character '\\t' that cannot start any token", mark_at(text, *pre.tab));
  };
  auto multi_doc_error = [&](std::size_t first_content) {
    return yaml_error(text, "expected a single document in the stream", mark_at(text, first_content),
                      "but found another document", mark_at(text, *second_doc));
  };
  std::vector<YAML::Node> docs;
  std::string source(text);
  bool substituted = false;
  if (!pre.plain_indicators.empty() && text.find("\xEE\x80") == std::string_view::npos) {
    // Back to front, so earlier offsets stay valid.
    for (auto it = pre.plain_indicators.rbegin(); it != pre.plain_indicators.rend(); ++it)
      source.replace(*it, 1, source[*it] == '&' ? amp_placeholder : star_placeholder);
    substituted = true;
  }
  for (int attempt = 0;; ++attempt) {
    try {
      docs = YAML::LoadAll(source);
      break;
    } catch (const YAML::Exception& e) {
      std::size_t at = e.mark.pos >= 0 ? static_cast<std::size_t>(e.mark.pos) : source.size();
      bool plain_at = std::string_view(e.msg).rfind(YAML::ErrorMsg::UNKNOWN_TOKEN, 0) == 0 &&
                      at < source.size() && source[at] == '@' &&
                      (substituted || text.find("\xEE\x80") == std::string_view::npos) && attempt < 1000;
      if (plain_at) {
        source.replace(at, 1, at_placeholder);
        substituted = true;
        continue;
      }
      if (pre.tab && *pre.tab <= at)
        return tab_error();
      if (second_doc && *second_doc <= at)
        return multi_doc_error(*second_doc);
      return translate(text, e);
    }
  }
  if (pre.tab)
    return tab_error();
  if (pre.open_quote)
    return yaml_error(text, "while scanning a quoted scalar", mark_at(text, *pre.open_quote),
                      "found unexpected end of stream", mark_at(text, text.size()));
  loaded_yaml out;
  if (docs.size() > 1) {
    std::size_t first = docs[0].Mark().pos >= 0 ? static_cast<std::size_t>(docs[0].Mark().pos) : 0;
    if (second_doc)
      return multi_doc_error(std::min(first, *second_doc));
    const char* token = docs[1].IsMap()        ? "<block mapping start>"
                        : docs[1].IsSequence() ? "<block sequence start>"
                                               : "<scalar>";
    return yaml_error(text, "", {}, std::string("expected '<document start>', but found '") + token + "'",
                      mark_of(text, docs[1].Mark()));
  }
  if (docs.empty()) {
    out.value = json::object();
    return out;
  }
  converter conv{text, out.marks, substituted};
  auto value = conv.any(docs[0], "");
  if (!value)
    return std::move(value).err();
  out.value = std::move(*value);
  out.has_timestamps = conv.timestamps;
  out.marks[""] = yaml_mark{docs[0].Mark().line + 1, docs[0].Mark().column + 1};
  // Mistral: `safe_yaml.load(text) or {}` — every falsy document becomes {}.
  const json& v = out.value;
  bool falsy = v.is_null() || (v.is_boolean() && !v.get<bool>()) ||
               (v.is_number_integer() && v.get<std::int64_t>() == 0) ||
               (v.is_number_float() && v.get<double>() == 0.0) ||
               (v.is_string() && v.get<std::string>().empty()) ||
               ((v.is_array() || v.is_object()) && v.empty());
  if (falsy)
    out.value = json::object();
  return out;
}

} // namespace mistral::dsl

#include "dsl/definition_text.hpp"

#include "dsl/expr/py_value.hpp"
#include "dsl/py_repr.hpp"
#include "dsl/yaml_loader.hpp"

#include <cstdio>
#include <vector>

namespace mistral::dsl {

namespace {

constexpr int best_width = 80;

std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string encode_utf8(const std::vector<char32_t>& cps, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) {
    char32_t cp = cps[i];
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

bool is_break(char32_t c) {
  return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029;
}
bool is_ws(char32_t c) {
  return c == 0 || c == ' ' || c == '\t' || c == '\r' || is_break(c);
}

// PyYAML's Emitter.analyze_scalar (allow_unicode=False).
struct analysis {
  bool empty = false, multiline = false;
  bool allow_flow_plain = true, allow_block_plain = true, allow_single_quoted = true;
};

analysis analyze(const std::vector<char32_t>& s) {
  analysis a;
  if (s.empty()) {
    a.empty = true;
    a.allow_flow_plain = false;
    return a;
  }
  bool block_ind = false, flow_ind = false, line_breaks = false, special = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
  bool break_space = false, space_break = false, prev_space = false, prev_break = false;
  auto starts = [&](const char* p) {
    for (std::size_t i = 0; p[i]; ++i)
      if (i >= s.size() || s[i] != static_cast<char32_t>(p[i]))
        return false;
    return true;
  };
  if (starts("---") || starts("..."))
    block_ind = flow_ind = true;
  bool preceded_ws = true;
  bool followed_ws = s.size() == 1 || is_ws(s[1]);
  for (std::size_t i = 0; i < s.size(); ++i) {
    char32_t ch = s[i];
    if (i == 0) {
      if (ch < 128 &&
          std::string_view("#,[]{}&*!|>'\"%@`").find(static_cast<char>(ch)) != std::string_view::npos)
        flow_ind = block_ind = true;
      if (ch == '?' || ch == ':') {
        flow_ind = true;
        if (followed_ws)
          block_ind = true;
      }
      if (ch == '-' && followed_ws)
        flow_ind = block_ind = true;
    } else {
      if (ch == ',' || ch == '?' || ch == '[' || ch == ']' || ch == '{' || ch == '}')
        flow_ind = true;
      if (ch == ':') {
        flow_ind = true;
        if (followed_ws)
          block_ind = true;
      }
      if (ch == '#' && preceded_ws)
        flow_ind = block_ind = true;
    }
    if (is_break(ch))
      line_breaks = true;
    if (!(ch == '\n' || (ch >= 0x20 && ch <= 0x7E)))
      special = true; // allow_unicode=False: every non-ASCII character is special
    if (ch == ' ') {
      if (i == 0)
        leading_space = true;
      if (i == s.size() - 1)
        trailing_space = true;
      if (prev_break)
        break_space = true;
      prev_space = true;
      prev_break = false;
    } else if (is_break(ch)) {
      if (i == 0)
        leading_break = true;
      if (i == s.size() - 1)
        trailing_break = true;
      if (prev_space)
        space_break = true;
      prev_space = false;
      prev_break = true;
    } else {
      prev_space = prev_break = false;
    }
    preceded_ws = is_ws(ch);
    followed_ws = i + 2 >= s.size() || is_ws(s[i + 2]);
  }
  if (leading_space || leading_break || trailing_space || trailing_break)
    a.allow_flow_plain = a.allow_block_plain = false;
  if (break_space)
    a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = false;
  if (space_break || special)
    a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = false;
  if (line_breaks)
    a.allow_flow_plain = a.allow_block_plain = false;
  if (flow_ind)
    a.allow_flow_plain = false;
  if (block_ind)
    a.allow_block_plain = false;
  a.multiline = line_breaks;
  return a;
}

// Would the plain text read back as a string (PyYAML's implicit[0])?
bool resolves_to_string(const std::string& s) {
  auto r = load_yaml("x: " + s + "\n");
  if (!r.ok() || !r->value.is_object() || !r->value.contains("x"))
    return false;
  const json& v = r->value["x"];
  return v.is_string() && v.get<std::string>() == s;
}

class emitter {
public:
  std::string out;

  void scalar_text(const std::string& text, bool is_string, int indent, bool simple_key) {
    if (!is_string) {
      write_plain(decode_utf8(text), indent, !simple_key);
      return;
    }
    auto cps = decode_utf8(text);
    analysis a = analyze(cps);
    bool plain_ok = !a.empty && resolves_to_string(text);
    if (plain_ok && !(simple_key && (a.empty || a.multiline)) && a.allow_block_plain) {
      write_plain(cps, indent, !simple_key);
    } else if (a.allow_single_quoted && !(simple_key && a.multiline)) {
      write_single(cps, indent, !simple_key);
    } else {
      write_double(cps, indent, !simple_key);
    }
  }

  void write_indicator(const std::string& ind, bool need_ws, bool ws = false, bool indention = false) {
    std::string data = (whitespace_ || !need_ws) ? ind : " " + ind;
    whitespace_ = ws;
    indention_ = indention_ && indention;
    column_ += static_cast<int>(data.size());
    out += data;
  }

  void write_indent(int indent) {
    if (!indention_ || column_ > indent || (column_ == indent && !whitespace_))
      line_break();
    if (column_ < indent) {
      whitespace_ = true;
      out += std::string(indent - column_, ' ');
      column_ = indent;
    }
  }

  void line_break() {
    out += '\n';
    whitespace_ = true;
    indention_ = true;
    column_ = 0;
  }

  void raw(const std::string& s) {
    out += s;
    column_ += static_cast<int>(decode_utf8(s).size());
  }

  void write_plain(const std::vector<char32_t>& t, int indent, bool split) {
    if (t.empty())
      return;
    if (!whitespace_)
      raw(" ");
    whitespace_ = indention_ = false;
    bool spaces = false;
    std::size_t start = 0;
    for (std::size_t end = 0; end <= t.size(); ++end) {
      char32_t ch = end < t.size() ? t[end] : 0;
      bool none = end == t.size();
      if (spaces) {
        if (none || ch != ' ') {
          if (start + 1 == end && column_ > best_width && split) {
            write_indent(indent);
            whitespace_ = indention_ = false;
          } else {
            raw(encode_utf8(t, start, end));
          }
          start = end;
        }
      } else if (none || ch == ' ' || is_break(ch)) {
        raw(encode_utf8(t, start, end));
        start = end;
      }
      if (!none)
        spaces = ch == ' ';
    }
  }

  void write_single(const std::vector<char32_t>& t, int indent, bool split) {
    write_indicator("'", true);
    bool spaces = false, breaks = false;
    std::size_t start = 0;
    for (std::size_t end = 0; end <= t.size(); ++end) {
      bool none = end == t.size();
      char32_t ch = none ? 0 : t[end];
      if (spaces) {
        if (none || ch != ' ') {
          if (start + 1 == end && column_ > best_width && split && start != 0 && end != t.size())
            write_indent(indent);
          else
            raw(encode_utf8(t, start, end));
          start = end;
        }
      } else if (breaks) {
        if (none || !is_break(ch)) {
          if (t[start] == '\n')
            line_break();
          for (std::size_t k = start; k < end; ++k)
            line_break();
          write_indent(indent);
          start = end;
        }
      } else if (none || ch == ' ' || is_break(ch) || ch == '\'') {
        if (start < end) {
          raw(encode_utf8(t, start, end));
          start = end;
        }
      }
      if (ch == '\'') {
        raw("''");
        start = end + 1;
      }
      if (!none) {
        spaces = ch == ' ';
        breaks = is_break(ch);
      }
    }
    write_indicator("'", false);
  }

  void write_double(const std::vector<char32_t>& t, int indent, bool split) {
    write_indicator("\"", true);
    std::size_t start = 0;
    for (std::size_t end = 0; end <= t.size(); ++end) {
      bool none = end == t.size();
      char32_t ch = none ? 0 : t[end];
      if (none || ch == '"' || ch == '\\' || ch == 0x85 || ch == 0x2028 || ch == 0x2029 || ch == 0xFEFF ||
          !(ch >= 0x20 && ch <= 0x7E)) {
        if (start < end) {
          raw(encode_utf8(t, start, end));
          start = end;
        }
        if (!none) {
          raw(escape(ch));
          start = end + 1;
        }
      }
      if (end > 0 && end + 1 < t.size() && (ch == ' ' || start >= end) &&
          column_ + static_cast<int>(end - start) > best_width && split) {
        std::string data = encode_utf8(t, start, end) + "\\";
        if (start < end)
          start = end;
        raw(data);
        write_indent(indent);
        whitespace_ = indention_ = false;
        if (t[start] == ' ')
          raw("\\");
      }
    }
    write_indicator("\"", false);
  }

  static std::string escape(char32_t ch) {
    switch (ch) {
      case 0: return "\\0";
      case 0x07: return "\\a";
      case 0x08: return "\\b";
      case 0x09: return "\\t";
      case 0x0A: return "\\n";
      case 0x0B: return "\\v";
      case 0x0C: return "\\f";
      case 0x0D: return "\\r";
      case 0x1B: return "\\e";
      case '"': return "\\\"";
      case '\\': return "\\\\";
      case 0x85: return "\\N";
      case 0xA0: return "\\_";
      case 0x2028: return "\\L";
      case 0x2029: return "\\P";
      default: break;
    }
    char buf[16];
    if (ch <= 0xFF)
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(ch));
    else if (ch <= 0xFFFF)
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(ch));
    else
      std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(ch));
    return buf;
  }

  // A scalar or an empty collection, written after "key:" or "- ".
  void leaf(const json& v, int indent) {
    if (v.is_object() && v.empty())
      write_indicator("{}", true);
    else if (v.is_array() && v.empty())
      write_indicator("[]", true);
    else if (v.is_string())
      scalar_text(v.get<std::string>(), true, indent + 2, false);
    else
      scalar_text(plain_form(v), false, indent + 2, false);
  }

  static std::string plain_form(const json& v) {
    if (v.is_null())
      return "null";
    if (v.is_boolean())
      return v.get<bool>() ? "true" : "false";
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (d != d)
        return ".nan";
      if (d == std::numeric_limits<double>::infinity())
        return ".inf";
      if (d == -std::numeric_limits<double>::infinity())
        return "-.inf";
      std::string r = expr::py_float_repr(d);
      for (auto& c : r)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (r.find('.') == std::string::npos && r.find('e') != std::string::npos)
        r.replace(r.find('e'), 1, ".0e");
      return r;
    }
    if (is_timestamp(v))
      return py_str(v);
    return v.dump();
  }

  // PyYAML always writes an indent before a key or "-"; right after "- " it
  // only pads, which puts the first key of a list item on the dash's line.
  void mapping(const json& m, int indent) {
    for (auto it = m.begin(); it != m.end(); ++it) {
      write_indent(indent);
      auto key = decode_utf8(it.key());
      analysis a = analyze(key);
      const json& v = *it;
      if (key.size() >= 128 || a.empty || a.multiline) {
        // Not a simple key: PyYAML writes "? key" and ": value".
        write_indicator("?", true, false, true);
        scalar_text(it.key(), true, indent + 2, false);
        write_indent(indent);
        write_indicator(":", true, false, true);
      } else {
        scalar_text(it.key(), true, indent + 2, true);
        write_indicator(":", false);
      }
      if (v.is_object() && !v.empty())
        mapping(v, indent + 2);
      else if (v.is_array() && !v.empty())
        sequence(v, indent); // PyYAML does not indent a sequence under its key
      else
        leaf(v, indent);
    }
  }

  void sequence(const json& s, int indent) {
    for (const auto& item : s) {
      write_indent(indent);
      write_indicator("-", true, false, true);
      if (item.is_object() && !item.empty())
        mapping(item, indent + 2);
      else if (item.is_array() && !item.empty())
        sequence(item, indent + 2);
      else
        leaf(item, indent);
    }
  }

private:
  int column_ = 0;
  bool whitespace_ = true;
  bool indention_ = true;
};

} // namespace

std::string dump_yaml(const json& value) {
  emitter e;
  if (value.is_object() && !value.empty()) {
    e.mapping(value, 0);
  } else if (value.is_array() && !value.empty()) {
    e.sequence(value, 0);
  } else {
    e.leaf(value, -2);
    if (!value.is_object() && !value.is_array())
      e.out += "\n...";
  }
  e.out += "\n";
  return e.out;
}

std::string workflow_definition_from_list(const json& doc, const std::string& name) {
  json one = json::object();
  one["version"] = doc.contains("version") ? doc["version"] : json(nullptr);
  one[name] = doc.contains(name) ? doc[name] : json(nullptr);
  return dump_yaml(one);
}

std::string workbook_item_definition(std::string_view wb, std::string_view section, std::string_view name) {
  std::string section_tag = std::string(section) + ":";
  std::string item_tag = std::string(name) + ":";
  auto at = wb.find(section_tag);
  if (at == std::string_view::npos)
    return {};
  std::string_view rest = wb.substr(at);
  // Python iterates a StringIO: lines keep their "\n".
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < rest.size();) {
    std::size_t eol = rest.find('\n', pos);
    std::size_t end = eol == std::string_view::npos ? rest.size() : eol + 1;
    lines.push_back(rest.substr(pos, end - pos));
    pos = end;
  }
  auto strip = [](std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
      ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
      --e;
    return s.substr(b, e - b);
  };
  auto lead = [](std::string_view s) {
    std::size_t b = 0;
    while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b])))
      ++b;
    return b;
  };
  std::string def;
  std::size_t ident = 0, i = 1; // the section line itself is skipped
  for (; i < lines.size(); ++i) {
    if (strip(lines[i]) == item_tag) {
      ident = lines[i].find(item_tag);
      def += std::string(lines[i].substr(lead(lines[i])));
      ++i;
      break;
    }
  }
  for (; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    std::string_view s = strip(line);
    if (s.empty()) {
      def += std::string(line);
    } else if (s[0] == '#') {
      def += std::string(ident > line.find('#') ? line : line.substr(std::min(ident, line.size())));
    } else if (ident < lead(line)) {
      def += std::string(line.substr(ident));
    } else {
      break;
    }
  }
  while (!def.empty() && std::isspace(static_cast<unsigned char>(def.back())))
    def.pop_back();
  return def + "\n";
}

} // namespace mistral::dsl

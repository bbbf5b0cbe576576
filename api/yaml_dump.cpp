#include "api/yaml_dump.hpp"

#include "common/py_json.hpp"

#include <cmath>
#include <regex>

namespace mistral::api {

namespace {

constexpr std::size_t best_width = 80;

std::u32string decode_utf8(const std::string& s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    char32_t cp = c;
    std::size_t n = 1;
    if (c >= 0xf0) {
      cp = c & 0x07;
      n = 4;
    } else if (c >= 0xe0) {
      cp = c & 0x0f;
      n = 3;
    } else if (c >= 0xc0) {
      cp = c & 0x1f;
      n = 2;
    }
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  for (char32_t cp : s) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  return out;
}

bool is_break(char32_t c) {
  return c == U'\n' || c == 0x85 || c == 0x2028 || c == 0x2029;
}

bool is_ws(char32_t c) {
  return c == 0 || c == U' ' || c == U'\t' || c == U'\r' || is_break(c);
}

bool in(char32_t c, std::u32string_view set) {
  return set.find(c) != std::u32string_view::npos;
}

// A plain str that PyYAML's implicit resolvers would read back as another type.
bool resolves_to_non_string(const std::string& s) {
  static const std::regex non_str(
    R"(^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$)"
    R"(|^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?)"
    R"(|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$)"
    R"(|^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)"
    R"(|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$)"
    R"(|^(?:<<)$|^(?:~|null|Null|NULL|)$)"
    R"(|^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9])$)"
    R"(|^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9])"
    R"((?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$)"
    R"(|^(?:=)$)");
  return std::regex_search(s, non_str);
}

struct analysis {
  bool empty = false;
  bool multiline = false;
  bool allow_block_plain = true;
  bool allow_single_quoted = true;
};

// PyYAML's Emitter.analyze_scalar, for the block context only.
analysis analyze(const std::u32string& s) {
  analysis a;
  if (s.empty()) {
    a.empty = true;
    return a;
  }
  bool block_ind = false, line_breaks = false, special = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
  bool break_space = false, space_break = false;
  if (s.starts_with(U"---") || s.starts_with(U"..."))
    block_ind = true;
  bool preceded_ws = true;
  bool followed_ws = s.size() == 1 || is_ws(s[1]);
  bool prev_space = false, prev_break = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char32_t ch = s[i];
    if (i == 0) {
      if (in(ch, U"#,[]{}&*!|>'\"%@`"))
        block_ind = true;
      if (in(ch, U"?:") && followed_ws)
        block_ind = true;
      if (ch == U'-' && followed_ws)
        block_ind = true;
    } else {
      if (ch == U':' && followed_ws)
        block_ind = true;
      if (ch == U'#' && preceded_ws)
        block_ind = true;
    }
    if (is_break(ch))
      line_breaks = true;
    if (!(ch == U'\n' || (ch >= 0x20 && ch <= 0x7e)))
      special = true; // allow_unicode is off: every non-ASCII char is special
    if (ch == U' ') {
      if (i == 0)
        leading_space = true;
      if (i + 1 == s.size())
        trailing_space = true;
      if (prev_break)
        break_space = true;
      prev_space = true;
      prev_break = false;
    } else if (is_break(ch)) {
      if (i == 0)
        leading_break = true;
      if (i + 1 == s.size())
        trailing_break = true;
      if (prev_space)
        space_break = true;
      prev_space = false;
      prev_break = true;
    } else {
      prev_space = prev_break = false;
    }
    preceded_ws = is_ws(ch);
    // PyYAML looks two characters ahead here (its index was already advanced).
    followed_ws = i + 2 >= s.size() || is_ws(s[i + 2]);
  }
  if (leading_space || leading_break || trailing_space || trailing_break)
    a.allow_block_plain = false;
  if (break_space)
    a.allow_block_plain = a.allow_single_quoted = false;
  if (space_break || special)
    a.allow_block_plain = a.allow_single_quoted = false;
  if (line_breaks)
    a.allow_block_plain = false;
  if (block_ind)
    a.allow_block_plain = false;
  a.multiline = line_breaks;
  return a;
}

class emitter {
public:
  std::string out;

  void node(const json& v, int indent, bool in_mapping_value) {
    if (v.is_object() && !v.empty())
      mapping(v, in_mapping_value ? indent + 2 : indent, in_mapping_value);
    else if (v.is_array() && !v.empty())
      sequence(v, indent, in_mapping_value);
    else
      scalar(v, indent + 2, false);
  }

private:
  std::size_t column_ = 0;
  bool whitespace_ = true;
  bool indention_ = true;

  void write(std::u32string_view s) {
    out += encode_utf8(s);
    column_ += s.size();
  }
  void write(const std::string& ascii) {
    out += ascii;
    column_ += ascii.size();
  }
  void line_break() {
    out += '\n';
    column_ = 0;
    whitespace_ = indention_ = true;
  }
  void write_indent(std::size_t indent) {
    if (!indention_ || column_ > indent || (column_ == indent && !whitespace_))
      line_break();
    if (column_ < indent) {
      whitespace_ = true;
      out.append(indent - column_, ' ');
      column_ = indent;
    }
  }
  void indicator(const std::string& text, bool need_ws, bool is_ws = false, bool is_indention = false) {
    std::string data = (whitespace_ || !need_ws) ? text : " " + text;
    whitespace_ = is_ws;
    indention_ = indention_ && is_indention;
    write(data);
  }

  void mapping(const json& v, std::size_t indent, bool nested) {
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first || nested || column_ != 0)
        write_indent(indent);
      first = false;
      scalar(json(it.key()), indent + 2, true);
      indicator(":", false);
      const json& item = it.value();
      if (item.is_object() && !item.empty())
        mapping(item, indent + 2, true);
      else if (item.is_array() && !item.empty())
        sequence(item, indent, true);
      else
        scalar(item, indent + 2, false);
    }
  }

  void sequence(const json& v, std::size_t indent, bool in_mapping) {
    // Indentless in a mapping value; nested sequences indent by two.
    std::size_t seq_indent = in_mapping ? indent : indent;
    for (const auto& item : v) {
      write_indent(seq_indent);
      indicator("-", true, false, true);
      if (item.is_object() && !item.empty())
        mapping_in_sequence(item, seq_indent + 2);
      else if (item.is_array() && !item.empty())
        sequence(item, seq_indent + 2, false);
      else
        scalar(item, seq_indent + 2, false);
    }
  }

  void mapping_in_sequence(const json& v, std::size_t indent) {
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (first) {
        // The first key follows "- " on the same line.
        if (!whitespace_)
          write(std::string(" "));
        whitespace_ = true;
      } else {
        write_indent(indent);
      }
      first = false;
      scalar(json(it.key()), indent + 2, true);
      indicator(":", false);
      const json& item = it.value();
      if (item.is_object() && !item.empty())
        mapping(item, indent + 2, true);
      else if (item.is_array() && !item.empty())
        sequence(item, indent, true);
      else
        scalar(item, indent + 2, false);
    }
  }

  void scalar(const json& v, std::size_t indent, bool simple_key) {
    switch (v.type()) {
      case json::value_t::null: return plain(U"null", indent, false);
      case json::value_t::boolean: return plain(v.get<bool>() ? U"true" : U"false", indent, false);
      case json::value_t::number_integer:
      case json::value_t::number_unsigned: {
        std::string s = v.dump();
        return plain(decode_utf8(s), indent, false);
      }
      case json::value_t::number_float: return plain(decode_utf8(float_text(v.get<double>())), indent, false);
      case json::value_t::array: return plain(U"[]", indent, false);
      case json::value_t::object: return plain(U"{}", indent, false);
      case json::value_t::string: return string(v.get_ref<const std::string&>(), indent, simple_key);
      default: return plain(U"null", indent, false);
    }
  }

  static std::string float_text(double d) {
    if (std::isnan(d))
      return ".nan";
    if (std::isinf(d))
      return d < 0 ? "-.inf" : ".inf";
    std::string r = python_json_dumps(json(d));
    if (r.find('.') == std::string::npos && r.find('e') != std::string::npos)
      r.insert(r.find('e'), ".0");
    return r;
  }

  void string(const std::string& text, std::size_t indent, bool simple_key) {
    std::u32string s = decode_utf8(text);
    analysis a = analyze(s);
    bool split = !simple_key;
    bool implicit = !resolves_to_non_string(text);
    if (implicit && !(simple_key && (a.empty || a.multiline)) && a.allow_block_plain)
      return plain(s, indent, split);
    if (a.allow_single_quoted && !(simple_key && a.multiline))
      return single_quoted(s, indent, split);
    double_quoted(s, indent, split);
  }

  void plain(std::u32string_view text, std::size_t indent, bool split) {
    if (text.empty())
      return;
    if (!whitespace_)
      write(std::string(" "));
    whitespace_ = indention_ = false;
    bool spaces = false, breaks = false;
    std::size_t start = 0;
    for (std::size_t end = 0; end <= text.size(); ++end) {
      char32_t ch = end < text.size() ? text[end] : 0;
      bool at_end = end == text.size();
      if (spaces) {
        if (at_end || ch != U' ') {
          if (start + 1 == end && column_ > best_width && split) {
            write_indent(indent);
            whitespace_ = indention_ = false;
          } else {
            write(text.substr(start, end - start));
          }
          start = end;
        }
      } else if (breaks) {
        if (at_end || !is_break(ch)) {
          if (text[start] == U'\n')
            line_break();
          for (std::size_t k = start; k < end; ++k)
            line_break();
          write_indent(indent);
          whitespace_ = indention_ = false;
          start = end;
        }
      } else if (at_end || ch == U' ' || is_break(ch)) {
        write(text.substr(start, end - start));
        start = end;
      }
      if (!at_end) {
        spaces = ch == U' ';
        breaks = is_break(ch);
      }
    }
  }

  void single_quoted(std::u32string_view text, std::size_t indent, bool split) {
    indicator("'", true);
    bool spaces = false, breaks = false;
    std::size_t start = 0;
    for (std::size_t end = 0; end <= text.size(); ++end) {
      bool at_end = end == text.size();
      char32_t ch = at_end ? 0 : text[end];
      if (spaces) {
        if (at_end || ch != U' ') {
          if (start + 1 == end && column_ > best_width && split && start != 0 && end != text.size())
            write_indent(indent);
          else
            write(text.substr(start, end - start));
          start = end;
        }
      } else if (breaks) {
        if (at_end || !is_break(ch)) {
          if (text[start] == U'\n')
            line_break();
          for (std::size_t k = start; k < end; ++k)
            line_break();
          write_indent(indent);
          start = end;
        }
      } else if (at_end || ch == U' ' || is_break(ch) || ch == U'\'') {
        if (start < end) {
          write(text.substr(start, end - start));
          start = end;
        }
      }
      if (ch == U'\'' && !at_end) {
        write(std::string("''"));
        start = end + 1;
      }
      if (!at_end) {
        spaces = ch == U' ';
        breaks = is_break(ch);
      }
    }
    indicator("'", false);
  }

  static std::string escape(char32_t ch) {
    switch (ch) {
      case 0: return "\\0";
      case 0x07: return "\\a";
      case 0x08: return "\\b";
      case 0x09: return "\\t";
      case 0x0a: return "\\n";
      case 0x0b: return "\\v";
      case 0x0c: return "\\f";
      case 0x0d: return "\\r";
      case 0x1b: return "\\e";
      case U'"': return "\\\"";
      case U'\\': return "\\\\";
      case 0x85: return "\\N";
      case 0xa0: return "\\_";
      case 0x2028: return "\\L";
      case 0x2029: return "\\P";
      default: break;
    }
    char buf[16];
    if (ch <= 0xff)
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(ch));
    else if (ch <= 0xffff)
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(ch));
    else
      std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(ch));
    return buf;
  }

  void double_quoted(std::u32string_view text, std::size_t indent, bool split) {
    indicator("\"", true);
    std::size_t start = 0;
    for (std::size_t end = 0; end <= text.size(); ++end) {
      bool at_end = end == text.size();
      char32_t ch = at_end ? 0 : text[end];
      if (at_end || ch == U'"' || ch == U'\\' || ch == 0x85 || ch == 0x2028 || ch == 0x2029 || ch == 0xfeff ||
          !(ch >= 0x20 && ch <= 0x7e)) {
        if (start < end) {
          write(text.substr(start, end - start));
          start = end;
        }
        if (!at_end) {
          write(escape(ch));
          start = end + 1;
        }
      }
      if (end > 0 && end + 1 < text.size() && (ch == U' ' || start >= end) &&
          column_ + (end - start) > best_width && split) {
        std::u32string data(text.substr(start, end > start ? end - start : 0));
        data += U'\\';
        if (start < end)
          start = end;
        write(data);
        write_indent(indent);
        whitespace_ = indention_ = false;
        if (text[start] == U' ')
          write(std::string("\\"));
      }
    }
    indicator("\"", false);
  }
};

} // namespace

std::string py_yaml_dump(const json& data) {
  emitter e;
  e.node(data, 0, false);
  std::string out = std::move(e.out);
  if (out.empty() || out.back() != '\n')
    out += '\n';
  if (!(data.is_object() && !data.empty()) && !(data.is_array() && !data.empty()))
    out += "...\n";
  return out;
}

} // namespace mistral::api

#include "dsl/expr/functions.hpp"

#include "common/uuid.hpp"
#include "dsl/expr/py_value.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

namespace mistral::expr::fn {

namespace {

error no_host(const char* what) {
  return error{errc::invalid_input, std::string("function ") + what + "() needs the engine (no host given)",
               "YaqlEvaluationException"};
}

json context_var(const eval_env& e, std::string_view name) {
  const json* v = e.data.find(name);
  return v ? *v : json();
}

// ---- json.dumps(indent=4) ------------------------------------------------

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    char buf[16];
    switch (b) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      case '\b':
        out += "\\b";
        ++i;
        continue;
      case '\f':
        out += "\\f";
        ++i;
        continue;
      default: break;
    }
    if (b < 0x20 || b == 0x7f) {
      if (b == 0x7f) {
        out += static_cast<char>(b);
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", b);
        out += buf;
      }
      ++i;
      continue;
    }
    if (b < 0x80) {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    // ensure_ascii: non-ASCII as \uXXXX, astral planes as surrogate pairs.
    int len = (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
    if (i + len > s.size())
      len = 1;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
    for (int k = 1; k < len; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xd800 + (cp >> 10)),
                    static_cast<unsigned>(0xdc00 + (cp & 0x3ff)));
    } else {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
    }
    out += buf;
  }
  out += '"';
}

std::string py_json_float(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v < 0 ? "-Infinity" : "Infinity";
  return py_float_repr(v);
}

void dump_into(std::string& out, const json& v, int indent, int depth) {
  auto newline = [&](int d) {
    if (indent >= 0) {
      out += '\n';
      out.append(static_cast<std::size_t>(indent * d), ' ');
    }
  };
  const char* item_sep = indent >= 0 ? "," : ", ";
  switch (v.type()) {
    case json::value_t::null: out += "null"; return;
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case json::value_t::number_integer: out += std::to_string(v.get<std::int64_t>()); return;
    case json::value_t::number_unsigned: out += std::to_string(v.get<std::uint64_t>()); return;
    case json::value_t::number_float: out += py_json_float(v.get<double>()); return;
    case json::value_t::string: append_json_string(out, v.get_ref<const std::string&>()); return;
    case json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first)
          out += item_sep;
        first = false;
        newline(depth + 1);
        dump_into(out, item, indent, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first)
          out += item_sep;
        first = false;
        newline(depth + 1);
        append_json_string(out, it.key());
        out += ": ";
        dump_into(out, it.value(), indent, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    default: out += "null"; return;
  }
}

// ---- yaml.safe_dump(default_flow_style=False) ----------------------------

bool looks_like_yaml_scalar(const std::string& s) {
  // Plain scalars PyYAML's resolver would read back as something other than
  // a string must be quoted.
  static const std::regex special(
    R"(^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|=)$)");
  static const std::regex number(
    R"(^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$)");
  static const std::regex floating(
    R"(^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$)");
  static const std::regex timestamp(R"(^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?)");
  return std::regex_match(s, special) || std::regex_match(s, number) || std::regex_match(s, floating) ||
         std::regex_search(s, timestamp);
}

bool yaml_plain_ok(const std::string& s) {
  if (s.empty() || looks_like_yaml_scalar(s))
    return false;
  if (s.front() == ' ' || s.back() == ' ')
    return false;
  static const std::string bad_first = "-?:,[]{}#&*!|>'\"%@`";
  if (bad_first.find(s.front()) != std::string::npos) {
    bool indicator_ok =
      (s.front() == '-' || s.front() == '?' || s.front() == ':') && s.size() > 1 && s[1] != ' ';
    if (!indicator_ok)
      return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c >= 0x80)
      return false;
    if (c == ':' && (i + 1 == s.size() || s[i + 1] == ' '))
      return false;
    if (c == '#' && i > 0 && s[i - 1] == ' ')
      return false;
  }
  return true;
}

/// Characters PyYAML cannot write unquoted or single-quoted with
/// allow_unicode=False: controls other than newline, DEL and non-ASCII.
bool yaml_special(const std::string& s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\n') || c >= 0x7f)
      return true;
  return false;
}

std::string yaml_double_quoted(const std::string& s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (i + len > s.size())
      len = 1;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    i += len;
    char buf[16];
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\t': out += "\\t"; continue;
      case '\r': out += "\\r"; continue;
      case 0: out += "\\0"; continue;
      case 0x07: out += "\\a"; continue;
      case 0x08: out += "\\b"; continue;
      case 0x0b: out += "\\v"; continue;
      case 0x0c: out += "\\f"; continue;
      case 0x1b: out += "\\e"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp < 0x7f) {
      out += static_cast<char>(cp);
      continue;
    }
    if (cp < 0x100)
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
    else if (cp < 0x10000)
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
    else
      std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(cp));
    out += buf;
  }
  return out + "\"";
}

std::size_t column_of(const std::string& out) {
  auto nl = out.rfind('\n');
  return nl == std::string::npos ? out.size() : out.size() - nl - 1;
}

constexpr std::size_t yaml_width = 80;

/// PyYAML's write_plain: words joined by single spaces fold past column 80.
void yaml_write_plain(std::string& out, const std::string& s, int indent, bool split) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = s.find(' ', i);
    if (j == std::string::npos) {
      out.append(s, i, std::string::npos);
      return;
    }
    out.append(s, i, j - i);
    std::size_t k = j;
    while (k < s.size() && s[k] == ' ')
      ++k;
    if (k - j == 1 && split && column_of(out) > yaml_width && k < s.size()) {
      out += '\n';
      out.append(static_cast<std::size_t>(indent), ' ');
    } else {
      out.append(s, j, k - j);
    }
    i = k;
  }
}

/// PyYAML's write_single_quoted: '' for quotes, n line breaks written as
/// n + 1 newlines, folding at single spaces past column 80.
void yaml_write_single(std::string& out, const std::string& s, int indent, bool split) {
  out += '\'';
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\'') {
      out += "''";
      ++i;
    } else if (c == '\n') {
      std::size_t k = i;
      while (k < s.size() && s[k] == '\n')
        ++k;
      out.append(k - i + 1, '\n');
      out.append(static_cast<std::size_t>(indent), ' ');
      i = k;
    } else if (c == ' ') {
      std::size_t k = i;
      while (k < s.size() && s[k] == ' ')
        ++k;
      if (k - i == 1 && split && column_of(out) > yaml_width && i != 0 && k != s.size()) {
        out += '\n';
        out.append(static_cast<std::size_t>(indent), ' ');
      } else {
        out.append(s, i, k - i);
      }
      i = k;
    } else {
      out += c;
      ++i;
    }
  }
  out += '\'';
}

/// Writes a string scalar the way PyYAML's emitter chooses its style;
/// returns true when it was written plain (a root plain scalar ends with "...").
bool yaml_write_string(std::string& out, const std::string& s, int indent, bool simple_key) {
  bool multiline = s.find('\n') != std::string::npos;
  bool space_break = s.find(" \n") != std::string::npos || s.find("\n ") != std::string::npos;
  if (yaml_special(s) || space_break || (simple_key && multiline) || (!s.empty() && s.front() == '\n') ||
      (!s.empty() && s.back() == '\n' && false)) {
    out += yaml_double_quoted(s);
    return false;
  }
  if (!multiline && yaml_plain_ok(s)) {
    yaml_write_plain(out, s, indent + 2, !simple_key);
    return true;
  }
  yaml_write_single(out, s, indent + 2, !simple_key);
  return false;
}

std::string yaml_string(const std::string& s) {
  std::string out;
  yaml_write_string(out, s, 0, true);
  return out;
}

std::string yaml_scalar(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer: return std::to_string(v.get<std::int64_t>());
    case json::value_t::number_unsigned: return std::to_string(v.get<std::uint64_t>());
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d))
        return ".nan";
      if (std::isinf(d))
        return d < 0 ? "-.inf" : ".inf";
      std::string r = py_float_repr(d);
      // PyYAML writes 1e+16 as 1.0e+16 so that it reads back as a float.
      if (r.find('.') == std::string::npos && r.find('e') != std::string::npos)
        r.insert(r.find('e'), ".0");
      return r;
    }
    case json::value_t::string: return yaml_string(v.get_ref<const std::string&>());
    case json::value_t::array: return "[]";
    case json::value_t::object: return "{}";
    default: return "null";
  }
}

/// Writes a scalar or empty collection; true when it was a plain scalar.
bool yaml_write_value(std::string& out, const json& v, int indent) {
  if (v.is_string())
    return yaml_write_string(out, v.get_ref<const std::string&>(), indent, false);
  out += yaml_scalar(v);
  return !(v.is_array() || v.is_object());
}

bool is_block(const json& v) {
  return (v.is_array() || v.is_object()) && !v.empty();
}

void yaml_node(std::string& out, const json& v, int indent);

void yaml_mapping(std::string& out, const json& v, int indent) {
  std::vector<std::string> keys;
  for (auto it = v.begin(); it != v.end(); ++it)
    keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  bool first = true;
  for (const auto& k : keys) {
    if (!first)
      out.append(static_cast<std::size_t>(indent), ' ');
    first = false;
    const json& item = v.at(k);
    out += yaml_string(k) + ":";
    if (item.is_object() && !item.empty()) {
      out += '\n';
      out.append(static_cast<std::size_t>(indent + 2), ' ');
      yaml_mapping(out, item, indent + 2);
    } else if (item.is_array() && !item.empty()) {
      out += '\n';
      out.append(static_cast<std::size_t>(indent), ' ');
      yaml_node(out, item, indent);
    } else {
      out += ' ';
      yaml_write_value(out, item, indent);
      out += '\n';
    }
  }
}

void yaml_sequence(std::string& out, const json& v, int indent) {
  bool first = true;
  for (const auto& item : v) {
    if (!first)
      out.append(static_cast<std::size_t>(indent), ' ');
    first = false;
    out += "- ";
    if (is_block(item)) {
      yaml_node(out, item, indent + 2);
    } else {
      yaml_write_value(out, item, indent);
      out += '\n';
    }
  }
}

void yaml_node(std::string& out, const json& v, int indent) {
  if (v.is_object() && !v.empty())
    yaml_mapping(out, v, indent);
  else if (v.is_array() && !v.empty())
    yaml_sequence(out, v, indent);
  else if (yaml_write_value(out, v, indent))
    out += "\n...\n"; // an open-ended plain scalar document
  else
    out += '\n';
}

json yaml_to_json(const YAML::Node& n);

json yaml_scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!")
    return s; // quoted scalar
  static const std::regex null_re(R"(^(?:~|null|Null|NULL|)$)");
  static const std::regex true_re(R"(^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$)");
  static const std::regex false_re(R"(^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$)");
  static const std::regex int_re(R"(^[-+]?(?:0|[1-9][0-9_]*)$)");
  static const std::regex float_re(
    R"(^[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?$|^\.[0-9_]+(?:[eE][-+][0-9]+)?$)");
  if (std::regex_match(s, null_re))
    return nullptr;
  if (std::regex_match(s, true_re))
    return true;
  if (std::regex_match(s, false_re))
    return false;
  std::string digits;
  for (char c : s)
    if (c != '_')
      digits += c;
  static const std::regex based_re(R"(^([-+]?)0(b[01_]+|x[0-9a-fA-F_]+|[0-7_]+)$)");
  std::smatch bm;
  if (std::regex_match(s, bm, based_re) && s != "0") {
    std::string body;
    for (char ch : bm[2].str())
      if (ch != '_')
        body += ch;
    int base = body[0] == 'b' ? 2 : body[0] == 'x' ? 16 : 8;
    if (base != 8)
      body.erase(0, 1);
    long long v = std::stoll(body, nullptr, base);
    return bm[1].str() == "-" ? -v : v;
  }
  if (std::regex_match(s, int_re)) {
    try {
      return std::stoll(digits);
    } catch (...) {
      return std::stod(digits);
    }
  }
  if (std::regex_match(s, float_re))
    return std::stod(digits);
  if (s == ".inf" || s == ".Inf" || s == "+.inf")
    return INFINITY;
  if (s == "-.inf" || s == "-.Inf")
    return -INFINITY;
  return s;
}

json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return nullptr;
    case YAML::NodeType::Scalar: return yaml_scalar_to_json(n);
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : n)
        arr.push_back(yaml_to_json(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : n) {
        json key = yaml_to_json(kv.first);
        obj[key.is_string() ? key.get<std::string>() : key.dump()] = yaml_to_json(kv.second);
      }
      return obj;
    }
    default: return nullptr;
  }
}

} // namespace

result<json> env(const eval_env& e) {
  return context_var(e, "__env");
}

result<json> execution(const eval_env& e) {
  if (!e.engine)
    return no_host("execution");
  return e.engine->execution();
}

result<json> executions(const eval_env& e, const executions_query& q) {
  if (!e.engine)
    return no_host("executions");
  return e.engine->executions(q);
}

result<json> task(const eval_env& e, const std::optional<std::string>& name) {
  if (!e.engine)
    return no_host("task");
  return e.engine->task(name);
}

result<json> tasks(const eval_env& e, const tasks_query& q) {
  if (!e.engine)
    return no_host("tasks");
  return e.engine->tasks(q);
}

result<json> global(const eval_env& e, const std::string& name) {
  if (!e.engine)
    return no_host("global");
  return e.engine->global(name);
}

std::string uuid() {
  return mistral::make_random_uuid();
}

std::string json_dump(const json& data) {
  std::string out;
  dump_into(out, data, 4, 0);
  return out;
}

std::string json_pp(const json& data) {
  std::string s = json_dump(data);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  std::string cleaned;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == ' ' && i + 1 < out.size() && out[i + 1] == '\n')
      continue;
    cleaned += out[i];
  }
  return cleaned;
}

result<json> json_parse(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const std::exception& ex) {
    return error{errc::invalid_input, ex.what(), "YaqlEvaluationException"};
  }
}

std::string yaml_dump(const json& data) {
  std::string out;
  yaml_node(out, data, 0);
  return out;
}

result<json> yaml_parse(const std::string& text) {
  try {
    return yaml_to_json(YAML::Load(text));
  } catch (const std::exception& ex) {
    return error{errc::invalid_input, ex.what(), "YaqlEvaluationException"};
  }
}

} // namespace mistral::expr::fn

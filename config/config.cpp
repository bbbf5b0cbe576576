#include "config/config.hpp"

#include "config/registry.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace mistral::config {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string_view rtrim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool is_number(opt_kind k) {
  return k == opt_kind::integer || k == opt_kind::floating || k == opt_kind::port;
}

/// The canonical [group] name of an option, so `use-debugger` lands where
/// `use_debugger` is looked up (deprecated names are mapped by the parser).
std::pair<std::string, std::string> canonical(const std::string& group, const std::string& name) {
  if (const auto* opt = registry::instance().find(group, name))
    return {opt->group, opt->name};
  return {group, name};
}

/// One `key = value` assignment, possibly spread over continuation lines.
struct assignment {
  std::string key;
  std::vector<std::string> lines;
  int line_no = 0;
  std::string section;
};

/// Parses one file's text into a config, with oslo.config's iniparser rules.
class parser {
public:
  parser(config& cfg, std::string name) : cfg_(cfg), name_(std::move(name)) {}

  status run(std::string_view text);

private:
  status line(std::string_view raw);
  status flush();
  status assign(const assignment& a);
  error fail(int line_no, const std::string& section, const std::string& key, const std::string& what) const;
  void warn(int line_no, const std::string& section, const std::string& key, const std::string& what);

  config& cfg_;
  std::string name_;
  int line_no_ = 0;
  std::optional<std::string> section_;
  std::optional<assignment> pending_;
  std::set<std::string> warned_groups_;
};

std::string where(const std::string& file, int line_no, const std::string& section, const std::string& key) {
  std::string out = file + ":" + std::to_string(line_no) + ":";
  if (!section.empty())
    out += " [" + section + "]";
  if (!key.empty())
    out += " " + key;
  return section.empty() && key.empty() ? out + " " : out + ": ";
}

error parser::fail(int line_no, const std::string& section, const std::string& key,
                   const std::string& what) const {
  return error(errc::invalid_input, where(name_, line_no, section, key) + what);
}

void parser::warn(int line_no, const std::string& section, const std::string& key, const std::string& what) {
  cfg_.add_warning(where(name_, line_no, section, key) + what);
}

status parser::run(std::string_view text) {
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    auto end = nl == std::string_view::npos ? text.size() : nl;
    if (auto st = line(text.substr(start, end - start)); !st)
      return st;
    if (nl == std::string_view::npos)
      break;
    start = nl + 1;
  }
  return flush();
}

status parser::line(std::string_view raw) {
  ++line_no_;
  auto text = rtrim(raw);
  if (text.empty()) // a blank line ends a multi-line value
    return flush();
  if (text.front() == ' ' || text.front() == '\t') {
    auto body = trim(text);
    // oslo would append an indented comment to the value; nobody means that.
    if (body.front() == '#' || body.front() == ';')
      return ok_v;
    if (!pending_)
      return fail(line_no_, section_.value_or(""), "",
                  "unexpected continuation line '" + std::string(body) + "'");
    pending_->lines.emplace_back(body);
    return ok_v;
  }
  if (auto st = flush(); !st)
    return st;
  if (text.front() == '[') {
    if (text.back() != ']')
      return fail(line_no_, "", "", "section header is missing its closing ']': '" + std::string(text) + "'");
    auto name = trim(text.substr(1, text.size() - 2));
    if (name.empty())
      return fail(line_no_, "", "", "empty section name");
    section_ = normalize_group(name);
    if (!registry::instance().has_group(*section_) && warned_groups_.insert(*section_).second)
      warn(line_no_, *section_, "", "unknown group, its options are ignored");
    return ok_v;
  }
  if (text.front() == '#' || text.front() == ';')
    return ok_v;
  // oslo splits at the first ':' or '=', whichever comes first.
  auto sep = text.find_first_of(":=");
  if (sep == std::string_view::npos)
    return fail(line_no_, section_.value_or(""), "",
                "expected a [section] header, a comment or 'key = value', got '" + std::string(text) + "'");
  std::string key(trim(text.substr(0, sep)));
  if (key.empty())
    return fail(line_no_, section_.value_or(""), "", "empty key in '" + std::string(text) + "'");
  if (!section_)
    return fail(line_no_, "", key, "option set before any [section] header");
  auto value = trim(text.substr(sep + 1));
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
    value = value.substr(1, value.size() - 2);
  pending_ = assignment{key, {std::string(value)}, line_no_, *section_};
  return ok_v;
}

status parser::flush() {
  if (!pending_)
    return ok_v;
  auto a = std::move(*pending_);
  pending_.reset();
  return assign(a);
}

status parser::assign(const assignment& a) {
  std::string value;
  for (std::size_t i = 0; i < a.lines.size(); ++i)
    value += (i ? "\n" : "") + a.lines[i];
  const auto& reg = registry::instance();
  const option* opt = reg.find(a.section, a.key);
  if (!opt) {
    if (opt = reg.find_deprecated(a.section, a.key); opt)
      warn(a.line_no, a.section, a.key, "deprecated name, use [" + opt->group + "] " + opt->name);
  }
  if (!opt) {
    // Kept, so raw() still sees it, but nothing reads it.
    if (reg.has_group(a.section))
      warn(a.line_no, a.section, a.key, "unknown option, ignored");
    cfg_.set(a.section, a.key, value);
    return ok_v;
  }
  if (auto problem = check_value(*opt, value))
    return fail(a.line_no, a.section, a.key, *problem);
  if (!opt->acted_on)
    warn(a.line_no, a.section, a.key, "accepted but ignored by this server");
  if (opt->kind == opt_kind::multi_string)
    cfg_.append(opt->group, opt->name, value);
  else
    cfg_.set(opt->group, opt->name, value);
  return ok_v;
}

status parse_into(config& cfg, std::string_view text, const std::string& name) {
  return parser(cfg, name).run(text);
}

std::optional<std::int64_t> to_int(std::string_view text) {
  auto t = std::string(trim(text));
  if (t.empty())
    return std::nullopt;
  errno = 0;
  char* end = nullptr;
  auto v = std::strtoll(t.c_str(), &end, 10);
  if (errno || end != t.c_str() + t.size())
    return std::nullopt;
  return v;
}

} // namespace

std::optional<std::string> config::raw(const std::string& group, const std::string& name) const {
  auto [g, n] = canonical(group, name);
  const auto* opt = registry::instance().find(g, n);
  if (auto it = values_.find(g); it != values_.end())
    if (auto jt = it->second.find(n); jt != it->second.end()) {
      // oslo reads an empty number as None, e.g. `evaluation_interval =` switches the policy off.
      if (opt && is_number(opt->kind) && trim(jt->second).empty())
        return std::nullopt;
      return jt->second;
    }
  if (opt)
    return opt->default_value;
  return std::nullopt;
}

std::optional<std::string> config::value(const std::string& group, const std::string& name) const {
  return expand(group, name, 0);
}

std::optional<std::string> config::expand(const std::string& group, const std::string& name,
                                          int depth) const {
  auto v = raw(group, name);
  if (!v || v->find_first_of("$\\") == std::string::npos)
    return v;
  return substitute(*v, canonical(group, name).first, depth);
}

std::string config::substitute(const std::string& text, const std::string& group, int depth) const {
  // Like Python's string.Template.safe_substitute with oslo's id pattern.
  auto is_id_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  auto is_id = [&](char c) {
    return is_id_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  };
  auto lookup = [&](const std::string& key) -> std::optional<std::string> {
    if (depth >= 10) // a reference cycle: leave the rest as written
      return std::nullopt;
    auto known = [&](const std::string& g, const std::string& n) {
      return registry::instance().find(g, n) || is_set(g, n);
    };
    if (auto dot = key.find('.'); dot != std::string::npos) {
      auto g = normalize_group(key.substr(0, dot));
      auto n = key.substr(dot + 1);
      if (known(g, n))
        return expand(g, n, depth + 1).value_or("");
    } else if (known(group, key)) {
      return expand(group, key, depth + 1).value_or("");
    }
    if (known("DEFAULT", key))
      return expand("DEFAULT", key, depth + 1).value_or("");
    return std::nullopt;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::size_t start = i + 1;
    bool braced = text[start] == '{';
    if (braced)
      ++start;
    std::size_t end = start;
    if (end < text.size() && is_id_start(text[end]))
      while (end < text.size() && is_id(text[end]))
        ++end;
    if (end == start || (braced && (end >= text.size() || text[end] != '}'))) {
      out += c;
      continue;
    }
    auto found = lookup(text.substr(start, end - start));
    std::size_t last = braced ? end : end - 1;
    if (found)
      out += *found;
    else
      out += text.substr(i, last - i + 1);
    i = last;
  }
  return out;
}

bool config::is_set(const std::string& group, const std::string& name) const {
  auto [g, n] = canonical(group, name);
  auto it = values_.find(g);
  return it != values_.end() && it->second.count(n);
}

std::string config::get_string(const std::string& group, const std::string& name,
                               const std::string& fallback) const {
  auto v = value(group, name);
  return v ? *v : fallback;
}

std::int64_t config::get_int(const std::string& group, const std::string& name, std::int64_t fallback) const {
  auto v = value(group, name);
  if (!v)
    return fallback;
  return to_int(*v).value_or(fallback);
}

double config::get_float(const std::string& group, const std::string& name, double fallback) const {
  auto v = value(group, name);
  if (!v)
    return fallback;
  auto t = std::string(trim(*v));
  char* end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size())
    return fallback;
  return d;
}

bool config::get_bool(const std::string& group, const std::string& name, bool fallback) const {
  auto v = value(group, name);
  if (!v)
    return fallback;
  return parse_bool(*v).value_or(fallback);
}

std::vector<std::string> config::get_list(const std::string& group, const std::string& name) const {
  auto v = value(group, name);
  if (!v)
    return {};
  const auto* opt = registry::instance().find(group, name);
  if (opt && opt->kind == opt_kind::multi_string) {
    std::vector<std::string> out;
    std::istringstream in(*v);
    for (std::string item; std::getline(in, item);)
      out.push_back(item);
    return out;
  }
  return parse_list(*v, opt && opt->bounds);
}

std::map<std::string, std::string> config::get_dict(const std::string& group, const std::string& name) const {
  auto v = value(group, name);
  if (!v)
    return {};
  return parse_dict(*v).value_or(std::map<std::string, std::string>{});
}

void config::set(const std::string& group, const std::string& name, std::string value) {
  auto [g, n] = canonical(group, name);
  values_[g][n] = std::move(value);
}

void config::append(const std::string& group, const std::string& name, std::string value) {
  auto [g, n] = canonical(group, name);
  auto& slot = values_[g];
  auto it = slot.find(n);
  if (it == slot.end())
    slot.emplace(n, std::move(value));
  else
    it->second += "\n" + value;
}

status config::set_checked(const std::string& group, const std::string& name, std::string value) {
  const auto* opt = registry::instance().find(group, name);
  if (!opt)
    return error(errc::invalid_input, "[" + group + "] " + name + ": unknown option");
  if (auto problem = check_value(*opt, value))
    return error(errc::invalid_input, "[" + group + "] " + name + ": " + *problem);
  set(group, name, std::move(value));
  return ok_v;
}

result<config> load_text(const std::string& text, const std::string& name) {
  config cfg;
  if (auto st = parse_into(cfg, text, name); !st)
    return std::move(st).err();
  return cfg;
}

result<config> load(const std::vector<std::string>& files) {
  config cfg;
  for (const auto& file : files) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
      return error(errc::invalid_input, file + ": cannot read config file: it is a directory");
    std::ifstream in(file, std::ios::binary);
    if (!in)
      return error(errc::invalid_input, file + ": cannot read config file: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
      return error(errc::invalid_input, file + ": cannot read config file: " + std::strerror(errno));
    if (auto st = parse_into(cfg, text.str(), file); !st)
      return std::move(st).err();
  }
  return cfg;
}

std::string sqlite_synchronous(const config& cfg) {
  std::string v;
  for (char c : cfg.get_string("database", "sqlite_synchronous", "FULL"))
    v += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (v == "TRUE" || v == "1" || v == "YES" || v == "ON")
    return "FULL";
  if (v == "FALSE" || v == "0" || v == "NO")
    return "OFF";
  if (v == "OFF" || v == "NORMAL" || v == "FULL" || v == "EXTRA")
    return v;
  return "FULL";
}

} // namespace mistral::config

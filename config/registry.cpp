#include "config/registry.hpp"

#include "config/upstream.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <set>

namespace mistral::config {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string str_or_empty(const char* s) {
  return s ? s : "";
}

std::optional<std::string> opt_str(const char* s) {
  if (!s)
    return std::nullopt;
  return std::string(s);
}

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto nl = s.find('\n', start);
    out.emplace_back(s.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos)
      return out;
    start = nl + 1;
  }
}

option from_upstream(const detail::upstream_option& u) {
  option o;
  o.ns = u.ns;
  o.group = u.group;
  o.name = u.name;
  o.kind = u.kind;
  o.type_name = u.type_name;
  o.default_value = opt_str(u.default_value);
  o.sample_defaults = split_lines(u.sample ? u.sample : "");
  o.min = opt_str(u.min);
  o.max = opt_str(u.max);
  for (std::size_t i = 0; i < u.n_choices; ++i)
    o.choices.push_back({opt_str(u.choices[i].value), str_or_empty(u.choices[i].description)});
  for (std::size_t i = 0; i < u.n_aliases; ++i)
    o.deprecated_names.push_back(
      {u.aliases[i].group, u.aliases[i].name ? u.aliases[i].name : u.name, u.aliases[i].name != nullptr});
  o.is_mutable = u.flags & detail::flag_mutable;
  o.advanced = u.flags & detail::flag_advanced;
  o.deprecated_for_removal = u.flags & detail::flag_deprecated_for_removal;
  o.secret = u.flags & detail::flag_secret;
  o.sample_default_note = u.flags & detail::flag_sample_default_note;
  o.bounds = u.flags & detail::flag_bounds;
  o.ignore_case = u.flags & detail::flag_ignore_case;
  o.deprecated_since = str_or_empty(u.deprecated_since);
  o.deprecated_reason = str_or_empty(u.deprecated_reason);
  o.help = u.help;
  return o;
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

std::optional<std::string> check_choice(const option& opt, std::string_view text) {
  if (opt.choices.empty())
    return std::nullopt;
  std::string allowed;
  for (const auto& c : opt.choices) {
    if (c.value && (*c.value == text || (opt.ignore_case && lower(*c.value) == lower(text))))
      return std::nullopt;
    if (!allowed.empty())
      allowed += ", ";
    allowed += c.value ? *c.value : "<None>";
  }
  return "invalid value " + quoted(text) + ", must be one of: " + allowed;
}

template <class T>
std::optional<std::string> check_bounds(const option& opt, T value, std::string_view text,
                                        T (*conv)(const std::string&)) {
  if (opt.min && value < conv(*opt.min))
    return "value " + std::string(text) + " is less than the minimum " + *opt.min;
  if (opt.max && value > conv(*opt.max))
    return "value " + std::string(text) + " is greater than the maximum " + *opt.max;
  return std::nullopt;
}

std::int64_t to_int(const std::string& s) {
  return std::strtoll(s.c_str(), nullptr, 10);
}
double to_double(const std::string& s) {
  return std::strtod(s.c_str(), nullptr);
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  if (!text.empty() && text.front() == '+')
    text.remove_prefix(1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || text.empty())
    return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view text) {
  std::string s(text);
  if (s.empty())
    return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size())
    return std::nullopt;
  return v;
}

std::optional<std::string> check_number(const option& opt, std::string_view raw) {
  auto text = trim(raw);
  if (text.empty()) // oslo: an empty number is None
    return std::nullopt;
  if (opt.kind == opt_kind::floating) {
    auto v = parse_double(text);
    if (!v)
      return "invalid floating point value " + quoted(raw);
    return check_bounds<double>(opt, *v, text, to_double);
  }
  auto v = parse_int(text);
  if (!v)
    return std::string(opt.kind == opt_kind::port ? "invalid port value " : "invalid integer value ") +
           quoted(raw);
  if (auto e = check_bounds<std::int64_t>(opt, *v, text, to_int))
    return e;
  if (!opt.choices.empty()) {
    for (const auto& c : opt.choices)
      if (c.value && parse_int(*c.value) == v)
        return std::nullopt;
    return check_choice(opt, text);
  }
  return std::nullopt;
}

} // namespace

std::string normalize_group(std::string_view group) {
  if (group == "DEFAULT")
    return std::string(group);
  return lower(group);
}

std::optional<bool> parse_bool(std::string_view text) {
  auto s = lower(trim(text));
  if (s == "true" || s == "1" || s == "on" || s == "yes")
    return true;
  if (s == "false" || s == "0" || s == "off" || s == "no")
    return false;
  return std::nullopt;
}

std::vector<std::string> parse_list(std::string_view text, bool bounds) {
  auto s = trim(text);
  while (!s.empty() && s.back() == ',')
    s.remove_suffix(1);
  if (bounds && s.size() >= 2 && s.front() == '[' && s.back() == ']')
    s = s.substr(1, s.size() - 2);
  std::vector<std::string> out;
  if (s.empty())
    return out;
  // oslo splits a plain list at every comma and keeps quotes. A bounded list
  // holds JSON items (e.g. [notifier] notify), whose inner commas oslo keeps
  // by retrying json.loads; splitting only at top-level commas is the same.
  std::string item;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (bounds) {
      if (in_string) {
        if (c == '\\' && i + 1 < s.size()) {
          item += c;
          item += s[++i];
          continue;
        }
        if (c == '"')
          in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        --depth;
      }
    }
    if (c == ',' && depth == 0 && !in_string) {
      out.emplace_back(trim(item));
      item.clear();
    } else {
      item += c;
    }
  }
  out.emplace_back(trim(item));
  return out;
}

std::optional<std::map<std::string, std::string>> parse_dict(std::string_view text) {
  std::map<std::string, std::string> out;
  for (const auto& item : parse_list(text)) {
    auto colon = item.find(':');
    if (colon == std::string::npos)
      return std::nullopt;
    out[std::string(trim(std::string_view(item).substr(0, colon)))] =
      std::string(trim(std::string_view(item).substr(colon + 1)));
  }
  return out;
}

std::optional<std::string> check_value(const option& opt, std::string_view text) {
  switch (opt.kind) {
    case opt_kind::integer:
    case opt_kind::port:
    case opt_kind::floating: return check_number(opt, text);
    case opt_kind::boolean:
      if (!parse_bool(text))
        return "invalid boolean value " + quoted(text);
      return std::nullopt;
    case opt_kind::dict:
      if (!parse_dict(text))
        return "invalid dict value " + quoted(text) + ", expected key:value pairs separated by commas";
      return std::nullopt;
    case opt_kind::list: {
      auto s = trim(text);
      while (!s.empty() && s.back() == ',')
        s.remove_suffix(1);
      if (opt.bounds && !s.empty() && (s.front() != '[' || s.back() != ']'))
        return "invalid list value " + quoted(text) + ", it must be enclosed in [ ]";
      return std::nullopt;
    }
    default: return check_choice(opt, text);
  }
}

registry::registry(std::vector<option> options, std::map<std::string, std::string> group_helps)
  : options_(std::move(options)) {
  for (auto& [g, h] : group_helps)
    group_helps_.emplace(g, h);
  for (std::size_t i = 0; i < options_.size(); ++i) {
    const auto& o = options_[i];
    // A duplicate (rpc_response_timeout is in mistral.config and oslo.messaging) keeps the first.
    index_.emplace(std::pair{o.group, o.name}, i);
    for (const auto& d : o.deprecated_names)
      if (d.group != o.group || d.name != o.name)
        deprecated_.emplace(std::pair{normalize_group(d.group), d.name}, i);
  }
}

const registry& registry::instance() {
  static const registry r = [] {
    auto opts = detail::upstream_option_list();
    detail::apply_server_settings(opts);
    return registry(std::move(opts), detail::upstream_group_help_map());
  }();
  return r;
}

const registry& registry::upstream() {
  static const registry r(detail::upstream_option_list(), detail::upstream_group_help_map());
  return r;
}

const option* registry::find(std::string_view group, std::string_view name) const {
  std::string n(name);
  std::replace(n.begin(), n.end(), '-', '_');
  auto it = index_.find(std::pair{std::string(group), n});
  return it == index_.end() ? nullptr : &options_[it->second];
}

const option* registry::find_deprecated(std::string_view group, std::string_view name) const {
  auto it = deprecated_.find(std::pair{std::string(group), std::string(name)});
  return it == deprecated_.end() ? nullptr : &options_[it->second];
}

bool registry::has_group(std::string_view group) const {
  return std::any_of(options_.begin(), options_.end(), [&](const option& o) { return o.group == group; });
}

std::vector<std::string> registry::groups() const {
  std::set<std::string> names;
  for (const auto& o : options_)
    if (o.group != "DEFAULT")
      names.insert(o.group);
  std::vector<std::string> out{"DEFAULT"};
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

std::string registry::group_help(std::string_view group) const {
  auto it = group_helps_.find(group);
  return it == group_helps_.end() ? std::string() : it->second;
}

namespace detail {

std::vector<option> upstream_option_list() {
  std::vector<option> out;
  for (const auto& u : upstream_options())
    out.push_back(from_upstream(u));
  return out;
}

std::map<std::string, std::string> upstream_group_help_map() {
  std::map<std::string, std::string> out;
  for (const auto& g : upstream_group_helps())
    if (g.group)
      out.emplace(g.group, g.help ? g.help : "");
  return out;
}

} // namespace detail

} // namespace mistral::config

#include "dsl/expr/jinja_builtins.hpp"

#include "dsl/expr/functions.hpp"
#include "dsl/expr/jinja_eval.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace mistral::expr::jinja {

// ------------------------------------------------------------------ helpers

std::vector<std::optional<value>> bind_args(call_args& a, std::initializer_list<const char*> params,
                                            const char* fname) {
  std::vector<const char*> names(params);
  std::vector<std::optional<value>> out(names.size());
  if (a.pos.size() > names.size())
    raise("TypeError", std::string(fname) + "() takes " + std::to_string(names.size()) +
                         " positional arguments but " + std::to_string(a.pos.size()) + " were given");
  for (std::size_t n = 0; n < a.pos.size(); ++n)
    out[n] = a.pos[n];
  for (auto& [k, v] : a.kw) {
    auto it = std::find_if(names.begin(), names.end(), [&](const char* p) { return k == p; });
    if (it == names.end())
      raise("TypeError", std::string(fname) + "() got an unexpected keyword argument '" + k + "'");
    auto idx = static_cast<std::size_t>(it - names.begin());
    if (out[idx])
      raise("TypeError", std::string(fname) + "() got multiple values for argument '" + k + "'");
    out[idx] = v;
  }
  return out;
}

int_t to_index(const value& v, const char* what) {
  check_defined(v);
  if (auto i = as_int(v))
    return *i;
  raise("TypeError",
        what ? std::string(what) : "'" + type_name(v) + "' object cannot be interpreted as an integer");
}

namespace {

bool arg_truthy(const std::optional<value>& v, bool dflt) {
  return v ? truthy(*v) : dflt;
}

std::string lower_ascii(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// True for a character Python counts as a letter (ASCII or any non-ASCII).
bool is_letter(const std::string& ch) {
  return ch.size() > 1 || std::isalpha(static_cast<unsigned char>(ch[0]));
}

bool py_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string strip_chars(const std::string& s, const std::optional<value>& chars, bool left, bool right) {
  auto is_strip = [&](char c) {
    if (!chars || chars->k == vkind::none)
      return py_space(c);
    return chars->s.find(c) != std::string::npos;
  };
  std::size_t b = 0, e = s.size();
  if (left)
    while (b < e && is_strip(s[b]))
      ++b;
  if (right)
    while (e > b && is_strip(s[e - 1]))
      --e;
  return s.substr(b, e - b);
}

std::string replace_all(const std::string& s, const std::string& old, const std::string& neu, int_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts `new` between every character (and at both ends)
    auto chars = u8_chars(s);
    int_t done = 0;
    for (auto& c : chars) {
      if (count < 0 || done < count) {
        out += neu;
        ++done;
      }
      out += c;
    }
    if (count < 0 || done < count)
      out += neu;
    return out;
  }
  std::size_t pos = 0;
  int_t done = 0;
  while (true) {
    std::size_t f = s.find(old, pos);
    if (f == std::string::npos || (count >= 0 && done >= count))
      break;
    out.append(s, pos, f - pos);
    out += neu;
    pos = f + old.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::vector<value> py_split(const std::string& s, const std::optional<value>& sep_v, int_t maxsplit) {
  std::vector<value> out;
  if (!sep_v || sep_v->k == vkind::none) {
    std::size_t n = 0;
    while (true) {
      while (n < s.size() && py_space(s[n]))
        ++n;
      if (n >= s.size())
        break;
      if (maxsplit >= 0 && static_cast<int_t>(out.size()) >= maxsplit) {
        std::size_t e = s.size();
        while (e > n && py_space(s[e - 1]))
          --e;
        out.push_back(value::string(s.substr(n, e - n)));
        break;
      }
      std::size_t e = n;
      while (e < s.size() && !py_space(s[e]))
        ++e;
      out.push_back(value::string(s.substr(n, e - n)));
      n = e;
    }
    return out;
  }
  if (!sep_v->is_str())
    raise("TypeError", "must be str or None, not " + type_name(*sep_v));
  const std::string& sep = sep_v->s;
  if (sep.empty())
    raise("ValueError", "empty separator");
  std::size_t pos = 0;
  while (true) {
    std::size_t f = s.find(sep, pos);
    if (f == std::string::npos || (maxsplit >= 0 && static_cast<int_t>(out.size()) >= maxsplit))
      break;
    out.push_back(value::string(s.substr(pos, f - pos)));
    pos = f + sep.size();
  }
  out.push_back(value::string(s.substr(pos)));
  return out;
}

std::string capitalize(const std::string& s) {
  auto chars = u8_chars(s);
  std::string out;
  for (std::size_t n = 0; n < chars.size(); ++n)
    out += n ? u8_lower(chars[n]) : u8_upper(chars[n]);
  return out;
}

std::string title_case(const std::string& s) {
  // Jinja's do_title: split on runs of [-\s({\[<] and capitalise each item
  std::string out;
  bool start = true;
  for (auto& ch : u8_chars(s)) {
    char c = ch[0];
    bool sep = ch.size() == 1 && (c == '-' || py_space(c) || c == '(' || c == '{' || c == '[' || c == '<');
    if (sep) {
      out += ch;
      start = true;
    } else {
      out += start ? u8_upper(ch) : u8_lower(ch);
      start = false;
    }
  }
  return out;
}

/// str.title(): words are runs of letters.
std::string py_title(const std::string& s) {
  std::string out;
  bool prev_cased = false;
  for (auto& ch : u8_chars(s)) {
    bool alpha = is_letter(ch);
    out += alpha ? (prev_cased ? u8_lower(ch) : u8_upper(ch)) : ch;
    prev_cased = alpha;
  }
  return out;
}

} // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string url_quote(const std::string& s, bool for_qs) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || (!for_qs && c == '/')) {
      out += static_cast<char>(c);
    } else if (for_qs && c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string need_str(const value& v) {
  check_defined(v);
  return str(v);
}

/// Python float(str): strips whitespace, accepts underscores, inf and nan.
std::optional<double> parse_py_float(const std::string& text) {
  std::string s = strip_chars(text, std::nullopt, true, true);
  std::string t;
  for (std::size_t n = 0; n < s.size(); ++n) {
    if (s[n] == '_') {
      if (n == 0 || n + 1 == s.size() || !std::isdigit(static_cast<unsigned char>(s[n - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[n + 1])))
        return std::nullopt;
      continue;
    }
    t += s[n];
  }
  if (t.empty())
    return std::nullopt;
  std::string low = lower_ascii(t);
  std::string body = (low[0] == '+' || low[0] == '-') ? low.substr(1) : low;
  if (body == "inf" || body == "infinity" || body == "nan") {
    double v = body == "nan" ? NAN : INFINITY;
    return low[0] == '-' ? -v : v;
  }
  for (char c : body)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == '+' || c == '-'))
      return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size())
    return std::nullopt;
  return v;
}

/// Python int(str, base).
std::optional<int_t> parse_py_int(const std::string& text, int_t base) {
  std::string s = strip_chars(text, std::nullopt, true, true);
  bool neg = false;
  std::size_t n = 0;
  if (n < s.size() && (s[n] == '+' || s[n] == '-'))
    neg = s[n++] == '-';
  if (base == 0 || base == 16 || base == 8 || base == 2) {
    if (n + 1 < s.size() && s[n] == '0') {
      char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[n + 1])));
      int_t pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (pb && (base == 0 || base == pb)) {
        base = pb;
        n += 2;
        if (n < s.size() && s[n] == '_')
          ++n;
      }
    }
    if (base == 0)
      base = 10;
  }
  if (n >= s.size())
    return std::nullopt;
  int_t v = 0;
  bool prev_digit = false;
  for (; n < s.size(); ++n) {
    char c = s[n];
    if (c == '_') {
      if (!prev_digit || n + 1 >= s.size())
        return std::nullopt;
      prev_digit = false;
      continue;
    }
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c))
              ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
              : 99;
    if (d >= base)
      return std::nullopt;
    if (v > (static_cast<int_t>(1) << 120))
      raise("OverflowError", "int too large");
    v = v * base + d;
    prev_digit = true;
  }
  if (!prev_digit)
    return std::nullopt;
  return neg ? -v : v;
}

/// make_attrgetter: dotted attribute path, digits as indexes.
std::vector<value> attribute_parts(const value& attr) {
  std::vector<value> parts;
  if (attr.k == vkind::none)
    return parts;
  if (!attr.is_str()) {
    parts.push_back(attr);
    return parts;
  }
  std::size_t pos = 0;
  while (true) {
    std::size_t dot = attr.s.find('.', pos);
    std::string part = attr.s.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    parts.push_back(digits ? value::integer(*parse_py_int(part, 10)) : value::string(part));
    if (dot == std::string::npos)
      break;
    pos = dot + 1;
  }
  return parts;
}

value ignore_case(const value& v) {
  if (v.is_str())
    return value::string(u8_lower(v.s));
  return v;
}

struct attr_getter {
  std::vector<value> parts;
  bool lower = false;
  std::optional<value> dflt;

  value operator()(evaluator& ev, value item) const {
    for (auto& p : parts) {
      item = ev.getitem(item, p);
      if (dflt && item.is_undefined())
        item = *dflt;
    }
    return lower ? ignore_case(item) : item;
  }
};

attr_getter make_getter(const std::optional<value>& attribute, bool lower,
                        std::optional<value> dflt = std::nullopt) {
  attr_getter g;
  if (attribute)
    g.parts = attribute_parts(*attribute);
  g.lower = lower;
  if (dflt && dflt->k != vkind::none)
    g.dflt = dflt;
  return g;
}

std::vector<value> sorted_by(std::vector<value> items, const std::vector<value>& keys, bool reverse) {
  std::vector<std::size_t> idx(items.size());
  for (std::size_t n = 0; n < idx.size(); ++n)
    idx[n] = n;
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t x, std::size_t y) {
    return reverse ? less(keys[y], keys[x]) : less(keys[x], keys[y]);
  });
  std::vector<value> out;
  out.reserve(items.size());
  for (auto n : idx)
    out.push_back(std::move(items[n]));
  return out;
}

value sum_values(evaluator& ev, value acc, const std::vector<value>& items) {
  if (acc.is_str())
    raise("TypeError", "sum() can't sum strings [use ''.join(seq) instead]");
  for (auto& v : items) {
    ev.tick();
    acc = binary_op(ev, "+", acc, v);
  }
  return acc;
}

value py_round(const value& v, int_t precision) {
  check_defined(v);
  if (auto i = as_int(v)) {
    if (precision >= 0)
      return value::integer(*i);
    int_t p = 1;
    for (int_t k = 0; k < -precision && k < 38; ++k)
      p *= 10;
    int_t q = *i / p, r = *i % p;
    if (r < 0) {
      r += p;
      --q;
    }
    if (2 * r > p || (2 * r == p && (q % 2 != 0)))
      ++q;
    return value::integer(q * p);
  }
  if (v.k != vkind::floating)
    raise("TypeError", "type " + type_name(v) + " doesn't define __round__ method");
  double x = v.f;
  if (!std::isfinite(x))
    return v;
  if (precision == 0)
    return value::floating(std::nearbyint(x));
  if (precision > 0) {
    if (precision > 300)
      return v;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), x);
    return value::floating(std::strtod(buf, nullptr));
  }
  double p = std::pow(10.0, static_cast<double>(-precision));
  return value::floating(std::nearbyint(x / p) * p);
}

std::string json_dump_text(const value& v) {
  return fn::json_dump(to_json(v));
}

value unwrap(result<json> r) {
  if (!r)
    raise(r.err().kind.empty() ? "MistralError" : r.err().kind, r.err().message);
  return value::owned(std::move(*r));
}

std::optional<std::string> opt_str(const std::optional<value>& v) {
  if (!v || v->k == vkind::none)
    return std::nullopt;
  return need_str(*v);
}

/// Mistral's std_functions with `context` as the first argument: the piped
/// value for a filter, `_` for a global (functools.partial in Mistral).
value mistral_fn(evaluator& ev, const std::string& name, const value& ctx, call_args& a) {
  const char* f = name.c_str();
  if (name == "env") {
    bind_args(a, {}, "env_");
    check_defined(ctx);
    if (ctx.is_map()) {
      auto got = map_get(ctx, value::string("__env"));
      if (!got)
        raise("KeyError", "'__env'");
      return *got;
    }
    if (ctx.is_str() || ctx.is_seq())
      raise("TypeError", type_name(ctx) + " indices must be integers");
    raise("TypeError", "'" + type_name(ctx) + "' object is not subscriptable");
  }
  if (name == "json_dump" || name == "yaml_dump" || name == "json_parse" || name == "yaml_parse") {
    auto p = bind_args(a, {"data"}, (name + "_").c_str());
    if (!p[0])
      raise("TypeError", name + "_() missing 1 required positional argument: 'data'");
    const value& d = *p[0];
    check_defined(d);
    if (name == "json_dump")
      return value::string(json_dump_text(d));
    if (name == "yaml_dump") {
      if (!special_list_type(d).empty()) // PyYAML's SafeDumper knows plain types only
        raise("RepresenterError", "cannot represent an object");
      return value::string(fn::yaml_dump(to_json(d)));
    }
    if (!d.is_str())
      raise("TypeError", "the JSON object must be str, bytes or bytearray, not " + type_name(d));
    if (name == "json_parse") {
      auto r = fn::json_parse(d.s);
      if (!r)
        raise("JSONDecodeError", r.err().message);
      return value::owned(std::move(*r));
    }
    auto r = fn::yaml_parse(d.s);
    if (!r)
      raise("YAMLError", r.err().message);
    return value::owned(std::move(*r));
  }
  if (name == "json_pp") {
    auto p = bind_args(a, {"data"}, "json_pp_");
    const value& d = p[0] && truthy(*p[0]) ? *p[0] : ctx;
    check_defined(d);
    return value::string(fn::json_pp(to_json(d)));
  }
  if (name == "uuid") {
    bind_args(a, {}, "uuid_");
    return value::string(fn::uuid());
  }
  if (name == "task") {
    auto p = bind_args(a, {"task_name"}, "task_");
    return unwrap(fn::task(ev.env(), opt_str(p[0])));
  }
  if (name == "tasks") {
    auto p = bind_args(a, {"workflow_execution_id", "recursive", "state", "flat"}, "tasks_");
    tasks_query q;
    q.workflow_execution_id = opt_str(p[0]);
    q.recursive = arg_truthy(p[1], false);
    q.state = opt_str(p[2]);
    q.flat = arg_truthy(p[3], false);
    return unwrap(fn::tasks(ev.env(), q));
  }
  if (name == "execution") {
    bind_args(a, {}, "execution_");
    return unwrap(fn::execution(ev.env()));
  }
  if (name == "executions") {
    auto p = bind_args(a, {"id", "root_execution_id", "state", "from_time", "to_time"}, "executions_");
    executions_query q;
    q.id = opt_str(p[0]);
    q.root_execution_id = opt_str(p[1]);
    q.state = opt_str(p[2]);
    q.from_time = opt_str(p[3]);
    q.to_time = opt_str(p[4]);
    return unwrap(fn::executions(ev.env(), q));
  }
  if (name == "global") {
    auto p = bind_args(a, {"var_name"}, "global_");
    if (!p[0])
      raise("TypeError", "global_() missing 1 required positional argument: 'var_name'");
    return unwrap(fn::global(ev.env(), need_str(*p[0])));
  }
  raise("TypeError", std::string("unknown function ") + f);
}

// ------------------------------------------------------------------ filters

#define FILTER(fname) value fname(evaluator& ev, value& v, call_args& a)

FILTER(f_abs) {
  (void)ev;
  bind_args(a, {}, "abs");
  check_defined(v);
  if (auto i = as_int(v))
    return value::integer(*i < 0 ? -*i : *i);
  if (v.k == vkind::floating)
    return value::floating(std::fabs(v.f));
  raise("TypeError", "bad operand type for abs(): '" + type_name(v) + "'");
}

FILTER(f_attr) {
  auto p = bind_args(a, {"name"}, "do_attr");
  check_defined(v);
  if (!p[0])
    raise("TypeError", "do_attr() missing 1 required positional argument: 'name'");
  std::string name = need_str(*p[0]);
  if (name.size() > 4 && name.compare(0, 2, "__") == 0)
    return value::undefined("access to attribute '" + name + "' of '" + type_name(v) + "' object is unsafe.",
                            true);
  if (auto m = find_method(v, name))
    return *m;
  (void)ev;
  return value::undefined("'" + object_type_repr(v) + "' has no attribute '" + name + "'");
}

FILTER(f_batch) {
  auto p = bind_args(a, {"linecount", "fill_with"}, "do_batch");
  if (!p[0])
    raise("TypeError", "do_batch() missing 1 required positional argument: 'linecount'");
  int_t count = to_index(*p[0], nullptr);
  ev.check_items(static_cast<std::uint64_t>(std::max<int_t>(0, std::min<int_t>(count, int_t(1) << 62))));
  std::vector<value> out, tmp;
  for (auto& item : iterate(v)) {
    ev.tick();
    if (static_cast<int_t>(tmp.size()) == count) {
      out.push_back(value::list(std::move(tmp)));
      tmp.clear();
    }
    tmp.push_back(item);
  }
  if (!tmp.empty()) {
    if (p[1] && p[1]->k != vkind::none)
      while (static_cast<int_t>(tmp.size()) < count)
        tmp.push_back(*p[1]);
    out.push_back(value::list(std::move(tmp)));
  }
  return make_iterator(std::move(out));
}

FILTER(f_capitalize) {
  (void)ev;
  bind_args(a, {}, "do_capitalize");
  return value::string(capitalize(need_str(v)));
}

FILTER(f_center) {
  (void)ev;
  auto p = bind_args(a, {"width"}, "do_center");
  std::string s = need_str(v);
  int_t width = p[0] ? to_index(*p[0], nullptr) : 80;
  ev.check_size(static_cast<std::uint64_t>(std::max<int_t>(0, std::min<int_t>(width, int_t(1) << 62))));
  auto len = static_cast<int_t>(u8_length(s));
  if (width <= len)
    return value::string(s);
  int_t total = width - len;
  int_t left = total / 2 + (total & width & 1);
  return value::string(std::string(static_cast<std::size_t>(left), ' ') + s +
                       std::string(static_cast<std::size_t>(total - left), ' '));
}

FILTER(f_length) {
  (void)ev;
  bind_args(a, {}, "len");
  return value::integer(static_cast<int_t>(length(v)));
}

FILTER(f_default) {
  (void)ev;
  auto p = bind_args(a, {"default_value", "boolean"}, "do_default");
  if (v.is_undefined() || (arg_truthy(p[1], false) && !truthy(v)))
    return p[0] ? *p[0] : value::string("");
  return v;
}

FILTER(f_dictsort) {
  (void)ev;
  auto p = bind_args(a, {"case_sensitive", "by", "reverse"}, "do_dictsort");
  bool cs = arg_truthy(p[0], false);
  std::string by = p[1] ? need_str(*p[1]) : "key";
  if (by != "key" && by != "value")
    raise("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
  std::vector<value> pairs, keys;
  for (auto& [k, x] : items(v)) {
    keys.push_back(cs ? (by == "key" ? k : x) : ignore_case(by == "key" ? k : x));
    pairs.push_back(value::tuple({k, x}));
  }
  return value::list(sorted_by(std::move(pairs), keys, arg_truthy(p[2], false)));
}

FILTER(f_escape) {
  (void)ev;
  bind_args(a, {}, "escape");
  check_defined(v);
  return value::string(html_escape(str(v)));
}

FILTER(f_filesizeformat) {
  (void)ev;
  auto p = bind_args(a, {"binary"}, "do_filesizeformat");
  check_defined(v);
  std::optional<double> bytes = v.is_str() ? parse_py_float(v.s) : as_double(v);
  if (!bytes)
    raise(v.is_str() ? "ValueError" : "TypeError", "could not convert to float");
  bool binary = arg_truthy(p[0], false);
  double base = binary ? 1024 : 1000;
  static const char* dec[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  static const char* bin[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  if (*bytes == 1)
    return value::string("1 Byte");
  if (*bytes < base)
    return value::string(int_to_string(static_cast<int_t>(*bytes)) + " Bytes");
  char buf[64];
  double unit = base;
  for (int i = 0; i < 8; ++i) {
    unit = std::pow(base, i + 2);
    if (*bytes < unit || i == 7) {
      std::snprintf(buf, sizeof buf, "%.1f %s", base * *bytes / unit, binary ? bin[i] : dec[i]);
      return value::string(buf);
    }
  }
  return value::string(buf);
}

FILTER(f_first) {
  (void)ev;
  bind_args(a, {}, "do_first");
  auto items = iterate(v);
  if (items.empty())
    return value::undefined("No first item, sequence was empty.");
  return items.front();
}

FILTER(f_last) {
  (void)ev;
  bind_args(a, {}, "do_last");
  check_defined(v);
  if (!(v.is_str() || v.is_seq() || v.is_map()) || is_iterator(v))
    raise("TypeError", "'" + type_name(v) + "' object is not reversible");
  auto items = iterate(v);
  if (items.empty())
    return value::undefined("No last item, sequence was empty.");
  return items.back();
}

FILTER(f_float) {
  (void)ev;
  auto p = bind_args(a, {"default"}, "do_float");
  check_defined(v);
  value dflt = p[0] ? *p[0] : value::floating(0.0);
  if (v.is_str()) {
    auto d = parse_py_float(v.s);
    return d ? value::floating(*d) : dflt;
  }
  if (auto d = as_double(v))
    return value::floating(*d);
  return dflt;
}

FILTER(f_format) {
  (void)ev;
  std::string fmt = need_str(v);
  if (!a.pos.empty() && !a.kw.empty())
    raise("FilterArgumentError", "can't handle positional and keyword arguments at the same time");
  if (!a.kw.empty()) {
    dict_t d;
    for (auto& [k, x] : a.kw)
      d.set(value::string(k), x);
    return value::string(percent_format(fmt, value::dict(std::move(d))));
  }
  return value::string(percent_format(fmt, value::tuple(a.pos)));
}

FILTER(f_groupby) {
  auto p = bind_args(a, {"attribute", "default", "case_sensitive"}, "do_groupby");
  if (!p[0])
    raise("TypeError", "do_groupby() missing 1 required positional argument: 'attribute'");
  bool cs = arg_truthy(p[2], false);
  auto key = make_getter(p[0], !cs, p[1]);
  auto out_key = make_getter(p[0], false, p[1]);
  auto list = iterate(v);
  std::vector<value> keys;
  for (auto& x : list)
    keys.push_back(key(ev, x));
  std::vector<std::size_t> idx(list.size());
  for (std::size_t n = 0; n < idx.size(); ++n)
    idx[n] = n;
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t x, std::size_t y) { return less(keys[x], keys[y]); });
  std::vector<value> out;
  std::size_t n = 0;
  while (n < idx.size()) {
    std::vector<value> group;
    const value& k = keys[idx[n]];
    std::size_t m = n + 1;
    group.push_back(list[idx[n]]);
    while (m < idx.size() && equal(keys[idx[m]], k))
      group.push_back(list[idx[m++]]);
    value grouper = cs ? k : out_key(ev, group.front());
    value t = value::tuple({grouper, value::list(std::move(group))});
    t.s = "_GroupTuple"; // has .grouper and .list
    out.push_back(std::move(t));
    n = m;
  }
  return value::list(std::move(out));
}

FILTER(f_indent) {
  (void)ev;
  auto p = bind_args(a, {"width", "first", "blank"}, "do_indent");
  check_defined(v);
  if (!v.is_str())
    raise("TypeError", "unsupported operand type(s) for +=: '" + type_name(v) + "' and 'str'");
  std::string s = v.s;
  std::string ind;
  if (p[0] && p[0]->is_str())
    ind = p[0]->s;
  else {
    int_t w = std::max<int_t>(0, p[0] ? to_index(*p[0], nullptr) : 4);
    ev.check_size(static_cast<std::uint64_t>(std::min<int_t>(w, int_t(1) << 62)));
    ind = std::string(static_cast<std::size_t>(w), ' ');
  }
  s += "\n";
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t nl = s.find('\n', pos);
    lines.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::string rv;
  if (arg_truthy(p[2], false)) {
    for (std::size_t n = 0; n < lines.size(); ++n)
      rv += (n ? "\n" + ind : "") + lines[n];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (std::size_t n = 1; n < lines.size(); ++n)
      rv += "\n" + (lines[n].empty() ? "" : ind + lines[n]);
  }
  if (arg_truthy(p[1], false))
    rv = ind + rv;
  return value::string(rv);
}

FILTER(f_int) {
  (void)ev;
  auto p = bind_args(a, {"default", "base"}, "do_int");
  check_defined(v);
  value dflt = p[0] ? *p[0] : value::integer(0);
  auto via_float = [&]() -> value {
    if (v.is_str()) {
      auto d = parse_py_float(v.s);
      if (!d)
        return dflt;
      if (std::isnan(*d))
        return dflt;
      if (std::isinf(*d))
        raise("OverflowError", "cannot convert float infinity to integer");
      return value::integer(static_cast<int_t>(std::trunc(*d)));
    }
    return dflt;
  };
  if (v.is_str()) {
    if (p[1] && !as_int(*p[1]))
      return via_float();
    int_t base = p[1] ? *as_int(*p[1]) : 10;
    if (base != 0 && (base < 2 || base > 36))
      return via_float();
    auto i = parse_py_int(v.s, base);
    if (i)
      return value::integer(*i);
    return via_float();
  }
  if (auto i = as_int(v))
    return value::integer(*i);
  if (v.k == vkind::floating) {
    if (std::isnan(v.f))
      raise("ValueError", "cannot convert float NaN to integer");
    if (std::isinf(v.f))
      raise("OverflowError", "cannot convert float infinity to integer");
    return value::integer(static_cast<int_t>(std::trunc(v.f)));
  }
  return dflt;
}

FILTER(f_items) {
  (void)ev;
  bind_args(a, {}, "do_items");
  if (v.is_undefined())
    return value::list({});
  if (!v.is_map())
    raise("TypeError", "Can only get item pairs from a mapping.");
  std::vector<value> out;
  for (auto& [k, x] : items(v))
    out.push_back(value::tuple({k, x}));
  return make_iterator(std::move(out));
}

FILTER(f_join) {
  auto p = bind_args(a, {"d", "attribute"}, "do_join");
  auto list = iterate(v);
  std::string d = p[0] ? need_str(*p[0]) : "";
  std::optional<attr_getter> g;
  if (p[1] && p[1]->k != vkind::none)
    g = make_getter(p[1], false);
  std::string out;
  for (std::size_t n = 0; n < list.size(); ++n) {
    if (n)
      out += d;
    value item = g ? (*g)(ev, list[n]) : list[n];
    out += need_str(item);
    ev.check_size(out.size());
  }
  return value::string(std::move(out));
}

FILTER(f_list) {
  (void)ev;
  bind_args(a, {}, "list");
  return value::list(iterate(v));
}

FILTER(f_lower) {
  (void)ev;
  bind_args(a, {}, "do_lower");
  return value::string(u8_lower(need_str(v)));
}

FILTER(f_upper) {
  (void)ev;
  bind_args(a, {}, "do_upper");
  return value::string(u8_upper(need_str(v)));
}

value min_max(evaluator& ev, value& v, call_args& a, bool want_max) {
  auto p = bind_args(a, {"case_sensitive", "attribute"}, want_max ? "do_max" : "do_min");
  auto list = iterate(v);
  if (list.empty())
    return value::undefined("No aggregated item, sequence was empty.");
  auto key = make_getter(p[1], !arg_truthy(p[0], false));
  std::size_t best = 0;
  value best_key = key(ev, list[0]);
  for (std::size_t n = 1; n < list.size(); ++n) {
    value k = key(ev, list[n]);
    if (want_max ? less(best_key, k) : less(k, best_key)) {
      best = n;
      best_key = k;
    }
  }
  return list[best];
}

FILTER(f_min) {
  return min_max(ev, v, a, false);
}
FILTER(f_max) {
  return min_max(ev, v, a, true);
}

FILTER(f_map) {
  if (!truthy(v)) // do_map starts with `if value:`
    return make_iterator({});
  auto list = iterate(v);
  std::vector<value> out;
  out.reserve(list.size());
  if (a.pos.empty()) {
    std::optional<value> attribute, dflt;
    for (auto& [k, x] : a.kw) {
      if (k == "attribute")
        attribute = x;
      else if (k == "default")
        dflt = x;
      else
        raise("FilterArgumentError", "Unexpected keyword argument '" + k + "'");
    }
    if (!attribute)
      raise("FilterArgumentError", "map requires a filter argument");
    auto g = make_getter(attribute, false, dflt);
    for (auto& item : list)
      out.push_back(g(ev, item));
    return make_iterator(std::move(out));
  }
  std::string name = need_str(a.pos[0]);
  call_args rest;
  rest.pos.assign(a.pos.begin() + 1, a.pos.end());
  rest.kw = a.kw;
  for (auto& item : list) {
    call_args copy = rest;
    out.push_back(ev.call_filter(name, item, copy));
  }
  return make_iterator(std::move(out));
}

value select_reject(evaluator& ev, value& v, call_args& a, bool want, bool by_attr) {
  if (!truthy(v))
    return make_iterator({});
  std::size_t off = 0;
  std::optional<attr_getter> g;
  if (by_attr) {
    if (a.pos.empty())
      raise("FilterArgumentError", "Missing parameter for attribute name");
    g = make_getter(a.pos[0], false);
    off = 1;
  }
  std::optional<std::string> test;
  call_args rest;
  if (a.pos.size() > off) {
    test = need_str(a.pos[off]);
    rest.pos.assign(a.pos.begin() + static_cast<std::ptrdiff_t>(off + 1), a.pos.end());
    rest.kw = a.kw;
  }
  std::vector<value> out;
  for (auto& item : iterate(v)) {
    value x = g ? (*g)(ev, item) : item;
    bool ok;
    if (test) {
      call_args copy = rest;
      ok = ev.call_test(*test, x, copy);
    } else {
      ok = truthy(x);
    }
    if (ok == want)
      out.push_back(item);
  }
  return make_iterator(std::move(out));
}

FILTER(f_select) {
  return select_reject(ev, v, a, true, false);
}
FILTER(f_reject) {
  return select_reject(ev, v, a, false, false);
}
FILTER(f_selectattr) {
  return select_reject(ev, v, a, true, true);
}
FILTER(f_rejectattr) {
  return select_reject(ev, v, a, false, true);
}

FILTER(f_pprint) {
  (void)ev;
  bind_args(a, {}, "do_pprint");
  return value::string(repr(v));
}

FILTER(f_random) {
  (void)ev;
  bind_args(a, {}, "do_random");
  length(v); // random.choice needs len()
  auto list = iterate(v);
  if (list.empty())
    return value::undefined("No random item, sequence was empty.");
  static thread_local std::mt19937 rng{std::random_device{}()};
  return list[std::uniform_int_distribution<std::size_t>(0, list.size() - 1)(rng)];
}

FILTER(f_replace) {
  auto p = bind_args(a, {"old", "new", "count"}, "do_replace");
  if (!p[0] || !p[1])
    raise("TypeError", "do_replace() missing required arguments");
  int_t count = p[2] && p[2]->k != vkind::none ? to_index(*p[2], nullptr) : -1;
  std::string r = replace_all(need_str(v), need_str(*p[0]), need_str(*p[1]), count);
  ev.check_size(r.size());
  return value::string(std::move(r));
}

FILTER(f_reverse) {
  (void)ev;
  bind_args(a, {}, "do_reverse");
  check_defined(v);
  if (v.is_str()) {
    auto chars = u8_chars(v.s);
    std::string out;
    for (auto it = chars.rbegin(); it != chars.rend(); ++it)
      out += *it;
    return value::string(out);
  }
  bool reversible = v.is_seq() || v.is_map();
  auto list = iterate(v);
  std::reverse(list.begin(), list.end());
  if (reversible && !is_iterator(v)) // reversed() gives an iterator, else a list
    return make_iterator(std::move(list), v.is_map() ? "dict_reversekeyiterator" : "list_reverseiterator");
  return value::list(std::move(list));
}

FILTER(f_round) {
  (void)ev;
  auto p = bind_args(a, {"precision", "method"}, "do_round");
  int_t precision = p[0] ? to_index(*p[0], nullptr) : 0;
  std::string method = p[1] ? need_str(*p[1]) : "common";
  if (method != "common" && method != "ceil" && method != "floor")
    raise("FilterArgumentError", "method must be common, ceil or floor");
  if (method == "common")
    return py_round(v, precision);
  check_defined(v);
  auto d = as_double(v);
  if (!d)
    raise("TypeError", "must be real number, not " + type_name(v));
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = *d * scale;
  double r = method == "ceil" ? std::ceil(x) : std::floor(x);
  return value::floating(r / scale);
}

FILTER(f_safe) {
  (void)ev;
  bind_args(a, {}, "do_mark_safe");
  return value::string(need_str(v));
}

FILTER(f_slice) {
  auto p = bind_args(a, {"slices", "fill_with"}, "do_slice");
  if (!p[0])
    raise("TypeError", "do_slice() missing 1 required positional argument: 'slices'");
  auto seq = iterate(v);
  int_t slices = to_index(*p[0], nullptr);
  if (slices <= 0)
    raise("ZeroDivisionError", "integer division or modulo by zero");
  ev.check_items(static_cast<std::uint64_t>(slices));
  int_t len = static_cast<int_t>(seq.size());
  int_t per = len / slices, extra = len % slices, offset = 0;
  std::vector<value> out;
  for (int_t s = 0; s < slices; ++s) {
    int_t start = offset + s * per;
    if (s < extra)
      ++offset;
    int_t end = offset + (s + 1) * per;
    std::vector<value> tmp(seq.begin() + static_cast<std::ptrdiff_t>(start),
                           seq.begin() + static_cast<std::ptrdiff_t>(end));
    if (p[1] && p[1]->k != vkind::none && s >= extra)
      tmp.push_back(*p[1]);
    out.push_back(value::list(std::move(tmp)));
  }
  return make_iterator(std::move(out));
}

FILTER(f_sort) {
  auto p = bind_args(a, {"reverse", "case_sensitive", "attribute"}, "do_sort");
  auto list = iterate(v);
  bool lower = !arg_truthy(p[1], false);
  std::vector<attr_getter> getters;
  if (p[2] && p[2]->is_str()) {
    std::size_t pos = 0;
    while (true) {
      std::size_t comma = p[2]->s.find(',', pos);
      getters.push_back(make_getter(
        value::string(p[2]->s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos)),
        lower));
      if (comma == std::string::npos)
        break;
      pos = comma + 1;
    }
  } else {
    getters.push_back(make_getter(p[2], lower));
  }
  std::vector<value> keys;
  for (auto& item : list) {
    std::vector<value> k;
    for (auto& g : getters)
      k.push_back(g(ev, item));
    keys.push_back(value::list(std::move(k)));
  }
  return value::list(sorted_by(std::move(list), keys, arg_truthy(p[0], false)));
}

FILTER(f_string) {
  (void)ev;
  bind_args(a, {}, "soft_str");
  return value::string(need_str(v));
}

FILTER(f_striptags) {
  (void)ev;
  bind_args(a, {}, "do_striptags");
  std::string s = need_str(v), t;
  for (std::size_t n = 0; n < s.size();) {
    if (s.compare(n, 4, "<!--") == 0) {
      std::size_t e = s.find("-->", n + 4);
      if (e != std::string::npos) {
        n = e + 3;
        continue;
      }
    }
    if (s[n] == '<') {
      std::size_t e = s.find('>', n + 1);
      if (e != std::string::npos) {
        n = e + 1;
        continue;
      }
    }
    t += s[n++];
  }
  std::string out;
  for (auto& w : py_split(t, std::nullopt, -1))
    out += (out.empty() ? "" : " ") + w.s;
  static const std::pair<const char*, const char*> ents[] = {
    {"&lt;", "<"},  {"&gt;", ">"},   {"&quot;", "\""},       {"&#34;", "\""},
    {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", "\xc2\xa0"}, {"&amp;", "&"}};
  for (auto& [e, r] : ents)
    out = replace_all(out, e, r, -1);
  return value::string(out);
}

FILTER(f_sum) {
  auto p = bind_args(a, {"attribute", "start"}, "do_sum");
  auto list = iterate(v);
  if (p[0] && p[0]->k != vkind::none) {
    auto g = make_getter(p[0], false);
    for (auto& item : list)
      item = g(ev, item);
  }
  return sum_values(ev, p[1] ? *p[1] : value::integer(0), list);
}

FILTER(f_title) {
  (void)ev;
  bind_args(a, {}, "do_title");
  return value::string(title_case(need_str(v)));
}

FILTER(f_tojson) {
  (void)ev;
  auto p = bind_args(a, {"indent"}, "do_tojson");
  int indent = p[0] && p[0]->k != vkind::none ? static_cast<int>(to_index(*p[0], nullptr)) : -1;
  std::string s = py_json_dumps(v, true, indent), out;
  for (char c : s) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      case '\'': out += "\\u0027"; break;
      default: out += c;
    }
  }
  return value::string(out);
}

FILTER(f_trim) {
  (void)ev;
  auto p = bind_args(a, {"chars"}, "do_trim");
  return value::string(strip_chars(need_str(v), p[0], true, true));
}

FILTER(f_truncate) {
  (void)ev;
  auto p = bind_args(a, {"length", "killwords", "end", "leeway"}, "do_truncate");
  check_defined(v);
  if (!v.is_str())
    raise("TypeError", "object of type '" + type_name(v) + "' has no len()");
  std::string s = v.s;
  int_t len = p[0] ? to_index(*p[0], nullptr) : 255;
  std::string end = p[2] ? need_str(*p[2]) : "...";
  int_t leeway = p[3] && p[3]->k != vkind::none ? to_index(*p[3], nullptr) : 5;
  auto chars = u8_chars(s);
  auto end_len = static_cast<int_t>(u8_length(end));
  if (len < end_len)
    raise("AssertionError", "expected length >= " + int_to_string(end_len) + ", got " + int_to_string(len));
  if (static_cast<int_t>(chars.size()) <= len + leeway)
    return value::string(s);
  std::string head;
  for (int_t n = 0; n < len - end_len && n < static_cast<int_t>(chars.size()); ++n)
    head += chars[static_cast<std::size_t>(n)];
  if (arg_truthy(p[1], false))
    return value::string(head + end);
  std::size_t sp = head.rfind(' ');
  if (sp != std::string::npos)
    head.resize(sp);
  return value::string(head + end);
}

FILTER(f_unique) {
  auto p = bind_args(a, {"case_sensitive", "attribute"}, "do_unique");
  auto g = make_getter(p[1], !arg_truthy(p[0], false));
  std::unordered_set<std::string> seen;
  std::vector<value> out;
  for (auto& item : iterate(v)) {
    if (seen.insert(hash_key(g(ev, item))).second)
      out.push_back(item);
  }
  return make_iterator(std::move(out));
}

FILTER(f_urlencode) {
  (void)ev;
  bind_args(a, {}, "do_urlencode");
  check_defined(v);
  if (v.is_str() || !(v.is_seq() || v.is_map()))
    return value::string(url_quote(str(v), false));
  std::vector<std::pair<value, value>> pairs;
  if (v.is_map())
    pairs = items(v);
  else
    for (auto& x : iterate(v)) {
      auto kv = iterate(x);
      if (kv.size() != 2)
        raise("ValueError", "too many values to unpack (expected 2)");
      pairs.emplace_back(kv[0], kv[1]);
    }
  std::string out;
  for (auto& [k, x] : pairs) {
    if (!out.empty())
      out += "&";
    out += url_quote(need_str(k), true) + "=" + url_quote(need_str(x), true);
  }
  return value::string(out);
}

FILTER(f_urlize) {
  (void)ev;
  return value::string(html_escape(need_str(v)));
  (void)a;
}

FILTER(f_wordcount) {
  (void)ev;
  bind_args(a, {}, "do_wordcount");
  std::string s = need_str(v);
  int_t count = 0;
  bool in_word = false;
  for (unsigned char c : s) {
    bool w = std::isalnum(c) || c == '_' || c >= 0x80;
    if (w && !in_word)
      ++count;
    in_word = w;
  }
  return value::integer(count);
}

/// textwrap's chunks: whitespace runs and words, hyphenated words split
/// after the hyphen (a simplified wordsep_re).
std::vector<std::string> wrap_chunks(const std::vector<std::string>& chars, bool hyphens) {
  std::vector<std::string> out;
  auto at = [&](std::size_t k) -> const std::string& {
    static const std::string none;
    return k < chars.size() ? chars[k] : none;
  };
  auto ws = [](const std::string& c) { return c.size() == 1 && py_space(c[0]); };
  auto letter = [](const std::string& c) { return !c.empty() && is_letter(c); };
  auto word = [&](const std::string& c) {
    return letter(c) || (c.size() == 1 && (std::isdigit(static_cast<unsigned char>(c[0])) || c[0] == '_'));
  };
  auto word_punct = [&](const std::string& c) {
    return word(c) || (c.size() == 1 && std::string("!\"'&.,?").find(c[0]) != std::string::npos);
  };
  auto dash_run = [&](std::size_t k) {
    std::size_t e = k;
    while (e < chars.size() && chars[e] == "-")
      ++e;
    return e - k;
  };
  std::size_t n = 0;
  while (n < chars.size()) {
    std::string chunk;
    if (ws(chars[n])) {
      while (n < chars.size() && ws(chars[n]))
        chunk += chars[n++];
      out.push_back(std::move(chunk));
      continue;
    }
    if (hyphens && n > 0 && chars[n] == "-" && word_punct(at(n - 1)) && dash_run(n) >= 2 &&
        word(at(n + dash_run(n)))) {
      std::size_t run = dash_run(n); // an em-dash between words is a chunk of its own
      for (std::size_t k = 0; k < run; ++k)
        chunk += chars[n++];
      out.push_back(std::move(chunk));
      continue;
    }
    std::size_t start = n;
    while (n < chars.size() && !ws(chars[n])) {
      if (hyphens && n > start && chars[n] == "-" && word_punct(chars[n - 1]) && dash_run(n) >= 2 &&
          word(at(n + dash_run(n))))
        break; // the word ends before an em-dash
      chunk += chars[n++];
      if (hyphens && chars[n - 1] == "-" && n - start >= 2) {
        // wordsep_re splits "well-known" after the hyphen: two letters (or
        // letter-letter-) before it, letter [-] letter after it
        std::size_t h = n - 1;
        bool before = (h >= start + 2 && letter(chars[h - 1]) && letter(chars[h - 2])) ||
                      (h >= start + 3 && letter(chars[h - 1]) && chars[h - 2] == "-" && letter(chars[h - 3]));
        bool after = letter(at(n)) && (letter(at(n + 1)) || (at(n + 1) == "-" && letter(at(n + 2))));
        if (before && after)
          break;
      }
    }
    out.push_back(std::move(chunk));
  }
  return out;
}

/// textwrap.wrap(line, width, expand_tabs=False, replace_whitespace=False).
std::vector<std::string> text_wrap(const std::string& line, int_t width, bool long_words, bool hyphens) {
  auto len = [](const std::string& s) { return static_cast<int_t>(u8_length(s)); };
  auto blank = [](const std::string& s) { return strip_chars(s, std::nullopt, true, true).empty(); };
  auto chunks = wrap_chunks(u8_chars(line), hyphens);
  std::reverse(chunks.begin(), chunks.end());
  std::vector<std::string> lines;
  if (width <= 0)
    raise("ValueError", "invalid width " + int_to_string(width) + " (must be > 0)");
  while (!chunks.empty()) {
    std::vector<std::string> cur;
    int_t cur_len = 0;
    if (blank(chunks.back()) && !lines.empty())
      chunks.pop_back();
    while (!chunks.empty() && cur_len + len(chunks.back()) <= width) {
      cur_len += len(chunks.back());
      cur.push_back(std::move(chunks.back()));
      chunks.pop_back();
    }
    if (!chunks.empty() && len(chunks.back()) > width) {
      int_t space_left = width - cur_len; // may be 0: the chunk then starts the next line
      if (long_words) {
        auto cs = u8_chars(chunks.back());
        int_t end = space_left;
        if (hyphens && static_cast<int_t>(cs.size()) > space_left) {
          int_t hyphen = -1;
          for (int_t k = 0; k < space_left; ++k)
            if (cs[static_cast<std::size_t>(k)] == "-")
              hyphen = k;
          bool non_dash = false;
          for (int_t k = 0; k < hyphen; ++k)
            non_dash = non_dash || cs[static_cast<std::size_t>(k)] != "-";
          if (hyphen > 0 && non_dash)
            end = hyphen + 1;
        }
        std::string head, tail;
        for (std::size_t k = 0; k < cs.size(); ++k)
          (static_cast<int_t>(k) < end ? head : tail) += cs[k];
        cur.push_back(head);
        cur_len += len(head);
        chunks.back() = tail;
      } else if (cur.empty()) {
        cur.push_back(std::move(chunks.back()));
        chunks.pop_back();
      }
    }
    if (!cur.empty() && blank(cur.back())) {
      cur_len -= len(cur.back());
      cur.pop_back();
    }
    if (!cur.empty()) {
      std::string l;
      for (auto& c : cur)
        l += c;
      lines.push_back(std::move(l));
    }
  }
  return lines;
}

FILTER(f_wordwrap) {
  auto p = bind_args(a, {"width", "break_long_words", "wrapstring", "break_on_hyphens"}, "do_wordwrap");
  check_defined(v);
  if (!v.is_str())
    raise("AttributeError", "'" + type_name(v) + "' object has no attribute 'splitlines'");
  int_t width = p[0] ? to_index(*p[0], nullptr) : 79;
  std::string wrap = p[2] && p[2]->k != vkind::none ? need_str(*p[2]) : "\n";
  bool long_words = arg_truthy(p[1], true), hyphens = arg_truthy(p[3], true);
  std::string out;
  std::size_t pos = 0;
  bool first = true;
  const std::string& s = v.s;
  while (pos < s.size()) {
    std::size_t nl = s.find('\n', pos);
    std::string line = s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!first)
      out += wrap;
    first = false;
    auto wrapped = text_wrap(line, width, long_words, hyphens);
    for (std::size_t k = 0; k < wrapped.size(); ++k)
      out += (k ? wrap : "") + wrapped[k];
    ev.check_size(out.size());
    if (nl == std::string::npos)
      break;
    pos = nl + 1;
  }
  return value::string(out);
}

FILTER(f_xmlattr) {
  (void)ev;
  auto p = bind_args(a, {"autospace"}, "do_xmlattr");
  std::string rv;
  for (auto& [k, x] : items(v)) {
    if (x.k == vkind::none || x.is_undefined())
      continue;
    if (!rv.empty())
      rv += " ";
    rv += html_escape(need_str(k)) + "=\"" + html_escape(need_str(x)) + "\"";
  }
  if (arg_truthy(p[0], true) && !rv.empty())
    rv = " " + rv;
  return value::string(rv);
}

#define MISTRAL_FILTER(fname, key)                                                                           \
  FILTER(fname) {                                                                                            \
    return mistral_fn(ev, key, v, a);                                                                        \
  }
MISTRAL_FILTER(m_env, "env")
MISTRAL_FILTER(m_execution, "execution")
MISTRAL_FILTER(m_executions, "executions")
MISTRAL_FILTER(m_global, "global")
MISTRAL_FILTER(m_json_dump, "json_dump")
MISTRAL_FILTER(m_json_parse, "json_parse")
MISTRAL_FILTER(m_json_pp, "json_pp")
MISTRAL_FILTER(m_task, "task")
MISTRAL_FILTER(m_tasks, "tasks")
MISTRAL_FILTER(m_uuid, "uuid")
MISTRAL_FILTER(m_yaml_dump, "yaml_dump")
MISTRAL_FILTER(m_yaml_parse, "yaml_parse")

/// Filters whose Python code inspects an undefined value instead of failing.
const std::unordered_map<std::string_view, filter_fn>& filter_table() {
  static const std::unordered_map<std::string_view, filter_fn> table = {
    {"abs", f_abs},
    {"attr", f_attr},
    {"batch", f_batch},
    {"capitalize", f_capitalize},
    {"center", f_center},
    {"count", f_length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", f_dictsort},
    {"e", f_escape},
    {"escape", f_escape},
    {"filesizeformat", f_filesizeformat},
    {"first", f_first},
    {"float", f_float},
    {"forceescape", f_escape},
    {"format", f_format},
    {"groupby", f_groupby},
    {"indent", f_indent},
    {"int", f_int},
    {"join", f_join},
    {"last", f_last},
    {"length", f_length},
    {"list", f_list},
    {"lower", f_lower},
    {"items", f_items},
    {"map", f_map},
    {"min", f_min},
    {"max", f_max},
    {"pprint", f_pprint},
    {"random", f_random},
    {"reject", f_reject},
    {"rejectattr", f_rejectattr},
    {"replace", f_replace},
    {"reverse", f_reverse},
    {"round", f_round},
    {"safe", f_safe},
    {"select", f_select},
    {"selectattr", f_selectattr},
    {"slice", f_slice},
    {"sort", f_sort},
    {"string", f_string},
    {"striptags", f_striptags},
    {"sum", f_sum},
    {"title", f_title},
    {"trim", f_trim},
    {"truncate", f_truncate},
    {"unique", f_unique},
    {"upper", f_upper},
    {"urlencode", f_urlencode},
    {"urlize", f_urlize},
    {"wordcount", f_wordcount},
    {"wordwrap", f_wordwrap},
    {"xmlattr", f_xmlattr},
    {"tojson", f_tojson},
    {"env", m_env},
    {"execution", m_execution},
    {"executions", m_executions},
    {"global", m_global},
    {"json_dump", m_json_dump},
    {"json_parse", m_json_parse},
    {"json_pp", m_json_pp},
    {"task", m_task},
    {"tasks", m_tasks},
    {"uuid", m_uuid},
    {"yaml_dump", m_yaml_dump},
    {"yaml_parse", m_yaml_parse},
  };
  return table;
}

// ------------------------------------------------------------------ tests

#define TEST(tname) bool tname(evaluator& ev, const value& v, call_args& a)

const value& arg1(call_args& a, const char* fname) {
  if (a.pos.empty()) {
    if (!a.kw.empty())
      return a.kw.front().second;
    raise("TypeError", std::string(fname) + "() missing 1 required positional argument");
  }
  return a.pos[0];
}

TEST(t_odd) {
  return equal(binary_op(ev, "%", v, value::integer(2)), value::integer(1));
  (void)a;
}
TEST(t_even) {
  return equal(binary_op(ev, "%", v, value::integer(2)), value::integer(0));
  (void)a;
}
TEST(t_divisibleby) {
  return equal(binary_op(ev, "%", v, arg1(a, "test_divisibleby")), value::integer(0));
}
TEST(t_defined) {
  (void)ev;
  (void)a;
  return !v.is_undefined();
}
TEST(t_undefined) {
  (void)ev;
  (void)a;
  return v.is_undefined();
}
TEST(t_none) {
  (void)ev;
  (void)a;
  return v.k == vkind::none;
}
TEST(t_boolean) {
  (void)ev;
  (void)a;
  return v.k == vkind::boolean;
}
TEST(t_false) {
  (void)ev;
  (void)a;
  return v.k == vkind::boolean && !v.b;
}
TEST(t_true) {
  (void)ev;
  (void)a;
  return v.k == vkind::boolean && v.b;
}
TEST(t_integer) {
  (void)ev;
  (void)a;
  return v.k == vkind::integer;
}
TEST(t_float) {
  (void)ev;
  (void)a;
  return v.k == vkind::floating;
}
TEST(t_lower) {
  (void)ev;
  (void)a;
  std::string s = need_str(v);
  bool cased = false;
  for (unsigned char c : s) {
    if (std::isupper(c))
      return false;
    if (std::islower(c))
      cased = true;
  }
  return cased;
}
TEST(t_upper) {
  (void)ev;
  (void)a;
  std::string s = need_str(v);
  bool cased = false;
  for (unsigned char c : s) {
    if (std::islower(c))
      return false;
    if (std::isupper(c))
      cased = true;
  }
  return cased;
}
TEST(t_string) {
  (void)ev;
  (void)a;
  return v.is_str();
}
TEST(t_mapping) {
  (void)ev;
  (void)a;
  return v.is_map();
}
TEST(t_number) {
  (void)ev;
  (void)a;
  return v.is_num();
}
TEST(t_sequence) {
  (void)ev;
  (void)a;
  return v.is_str() || (v.is_seq() && !is_iterator(v)) || v.is_map();
}
TEST(t_iterable) {
  (void)ev;
  (void)a;
  check_defined(v);
  return v.is_str() || v.is_seq() || v.is_map();
}
TEST(t_callable) {
  (void)ev;
  (void)a;
  return v.k == vkind::callable || v.is_undefined();
}
TEST(t_sameas) {
  (void)ev;
  const value& o = arg1(a, "test_sameas");
  if (v.k != o.k)
    return false;
  if (v.k == vkind::none)
    return true;
  if (v.k == vkind::boolean)
    return v.b == o.b;
  if (v.k == vkind::integer)
    return v.i == o.i && v.i >= -5 && v.i <= 256;
  if (v.is_seq() && v.k != vkind::jlist)
    return v.p == o.p;
  if (v.k == vkind::dict)
    return v.p == o.p;
  if (v.k == vkind::jlist || v.k == vkind::jdict)
    return v.j == o.j;
  return false;
}
TEST(t_escaped) {
  (void)ev;
  (void)a;
  (void)v;
  return false;
}
TEST(t_in) {
  (void)ev;
  return contains(arg1(a, "test_in"), v);
}
TEST(t_eq) {
  (void)ev;
  return equal(v, arg1(a, "eq"));
}
TEST(t_ne) {
  (void)ev;
  return !equal(v, arg1(a, "ne"));
}
TEST(t_gt) {
  (void)ev;
  return less(arg1(a, "gt"), v);
}
TEST(t_ge) {
  (void)ev;
  const value& o = arg1(a, "ge");
  return less(o, v) || equal(v, o);
}
TEST(t_lt) {
  (void)ev;
  return less(v, arg1(a, "lt"));
}
TEST(t_le) {
  (void)ev;
  const value& o = arg1(a, "le");
  return less(v, o) || equal(v, o);
}
TEST(t_filter) {
  (void)ev;
  (void)a;
  return v.is_str() && find_filter(v.s) != nullptr;
}
TEST(t_test) {
  (void)ev;
  (void)a;
  return v.is_str() && find_test(v.s) != nullptr;
}

const std::unordered_map<std::string_view, test_fn>& test_table() {
  static const std::unordered_map<std::string_view, test_fn> table = {
    {"odd", t_odd},
    {"even", t_even},
    {"divisibleby", t_divisibleby},
    {"defined", t_defined},
    {"undefined", t_undefined},
    {"filter", t_filter},
    {"test", t_test},
    {"none", t_none},
    {"boolean", t_boolean},
    {"false", t_false},
    {"true", t_true},
    {"integer", t_integer},
    {"float", t_float},
    {"lower", t_lower},
    {"upper", t_upper},
    {"string", t_string},
    {"mapping", t_mapping},
    {"number", t_number},
    {"sequence", t_sequence},
    {"iterable", t_iterable},
    {"callable", t_callable},
    {"sameas", t_sameas},
    {"escaped", t_escaped},
    {"in", t_in},
    {"==", t_eq},
    {"eq", t_eq},
    {"equalto", t_eq},
    {"!=", t_ne},
    {"ne", t_ne},
    {">", t_gt},
    {"gt", t_gt},
    {"greaterthan", t_gt},
    {"ge", t_ge},
    {">=", t_ge},
    {"<", t_lt},
    {"lt", t_lt},
    {"lessthan", t_lt},
    {"<=", t_le},
    {"le", t_le},
  };
  return table;
}

// ------------------------------------------------------------------ globals

value g_range(evaluator& ev, call_args& a) {
  if (!a.kw.empty())
    raise("TypeError", "range() takes no keyword arguments");
  if (a.pos.empty() || a.pos.size() > 3)
    raise("TypeError", "range expected at most 3 arguments, got " + std::to_string(a.pos.size()));
  std::vector<int_t> n;
  for (auto& p : a.pos)
    n.push_back(to_index(p, nullptr));
  int_t start = 0, stop, step = 1;
  if (n.size() == 1)
    stop = n[0];
  else {
    start = n[0];
    stop = n[1];
    if (n.size() == 3)
      step = n[2];
  }
  if (step == 0)
    raise("ValueError", "range() arg 3 must not be zero");
  int_t count = 0;
  if (step > 0 && start < stop)
    count = (stop - start + step - 1) / step;
  if (step < 0 && start > stop)
    count = (start - stop - step - 1) / -step;
  if (count > 100000)
    raise("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  ev.check_items(static_cast<std::uint64_t>(count));
  std::vector<value> out;
  out.reserve(static_cast<std::size_t>(count));
  for (int_t k = 0; k < count; ++k)
    out.push_back(value::integer(start + k * step));
  value r = value::list(std::move(out));
  r.s = "=range(" + int_to_string(start) + ", " + int_to_string(stop) +
        (step != 1 ? ", " + int_to_string(step) : "") + ")";
  return r;
}

value g_dict(evaluator& ev, call_args& a) {
  (void)ev;
  dict_t d;
  if (a.pos.size() > 1)
    raise("TypeError", "dict expected at most 1 argument, got " + std::to_string(a.pos.size()));
  if (!a.pos.empty()) {
    const value& src = a.pos[0];
    if (src.is_map()) {
      for (auto& [k, x] : items(src))
        d.set(k, x);
    } else {
      for (auto& pair : iterate(src)) {
        auto kv = iterate(pair);
        if (kv.size() != 2)
          raise("ValueError", "dictionary update sequence element has length " + std::to_string(kv.size()) +
                                "; 2 is required");
        hash_key(kv[0]);
        d.set(kv[0], kv[1]);
      }
    }
  }
  for (auto& [k, x] : a.kw)
    d.set(value::string(k), x);
  return value::dict(std::move(d));
}

value g_namespace(evaluator& ev, call_args& a) {
  value d = g_dict(ev, a);
  d.b = true; // marks a Namespace: `set ns.attr = ...` may write to it
  return d;
}

value g_joiner(evaluator&, call_args& a) {
  auto p = bind_args(a, {"sep"}, "Joiner");
  std::string sep = p[0] ? need_str(*p[0]) : ", ";
  auto used = std::make_shared<bool>(false);
  return value::callable("joiner", [sep, used](evaluator&, call_args&) {
    if (!*used) {
      *used = true;
      return value::string("");
    }
    return value::string(sep);
  });
}

value g_cycler(evaluator&, call_args& a) {
  if (a.pos.empty())
    raise("RuntimeError", "at least one item has to be provided");
  auto items = std::make_shared<std::vector<value>>(a.pos);
  auto pos = std::make_shared<std::size_t>(0);
  dict_t d;
  d.set(value::string("next"), value::callable("next", [items, pos](evaluator&, call_args&) {
          value v = (*items)[*pos];
          *pos = (*pos + 1) % items->size();
          return v;
        }));
  d.set(value::string("reset"), value::callable("reset", [pos](evaluator&, call_args&) {
          *pos = 0;
          return value::none();
        }));
  return value::dict(std::move(d));
}

bool is_mistral_function(const std::string& name) {
  static const std::unordered_set<std::string> names = {
    "env",     "execution", "executions", "global", "json_dump", "json_parse",
    "json_pp", "task",      "tasks",      "uuid",   "yaml_dump", "yaml_parse"};
  return names.count(name) > 0;
}

// ------------------------------------------------------------------ methods

value str_method(evaluator& ev, const std::string& s, const std::string& m, call_args& a) {
  auto p1 = [&](const char* n) { return bind_args(a, {n}, m.c_str()); };
  if (m == "upper")
    return bind_args(a, {}, "upper"), value::string(u8_upper(s));
  if (m == "lower" || m == "casefold")
    return bind_args(a, {}, "lower"), value::string(u8_lower(s));
  if (m == "capitalize")
    return value::string(capitalize(s));
  if (m == "title")
    return value::string(py_title(s));
  if (m == "swapcase") {
    std::string o;
    for (auto& ch : u8_chars(s))
      o += u8_upper(ch) == ch ? u8_lower(ch) : u8_upper(ch);
    return value::string(o);
  }
  if (m == "strip" || m == "lstrip" || m == "rstrip") {
    auto p = p1("chars");
    return value::string(strip_chars(s, p[0], m != "rstrip", m != "lstrip"));
  }
  if (m == "split" || m == "rsplit") {
    auto p = bind_args(a, {"sep", "maxsplit"}, m.c_str());
    int_t maxsplit = p[1] ? to_index(*p[1], nullptr) : -1;
    if (m == "rsplit" && maxsplit >= 0) {
      auto all = py_split(s, p[0], -1);
      if (static_cast<int_t>(all.size()) <= maxsplit + 1)
        return value::list(all);
      std::string sep = p[0] && p[0]->is_str() ? p[0]->s : " ";
      std::size_t keep = all.size() - static_cast<std::size_t>(maxsplit);
      std::string head;
      for (std::size_t n = 0; n < keep; ++n)
        head += (n ? sep : "") + all[n].s;
      std::vector<value> out{value::string(head)};
      out.insert(out.end(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end());
      return value::list(std::move(out));
    }
    return value::list(py_split(s, p[0], maxsplit));
  }
  if (m == "splitlines") {
    auto p = p1("keepends");
    std::vector<value> out;
    std::size_t pos = 0;
    while (pos < s.size()) {
      std::size_t nl = s.find('\n', pos);
      if (nl == std::string::npos) {
        out.push_back(value::string(s.substr(pos)));
        break;
      }
      out.push_back(value::string(s.substr(pos, nl - pos + (arg_truthy(p[0], false) ? 1 : 0))));
      pos = nl + 1;
    }
    return value::list(std::move(out));
  }
  if (m == "replace") {
    auto p = bind_args(a, {"old", "new", "count"}, "replace");
    if (!p[0] || !p[1])
      raise("TypeError", "replace expected at least 2 arguments");
    if (!p[0]->is_str() || !p[1]->is_str())
      raise("TypeError", "replace() argument must be str");
    std::string r = replace_all(s, p[0]->s, p[1]->s, p[2] ? to_index(*p[2], nullptr) : -1);
    ev.check_size(r.size());
    return value::string(r);
  }
  if (m == "startswith" || m == "endswith") {
    auto p = bind_args(a, {"prefix", "start", "end"}, m.c_str());
    if (!p[0])
      raise("TypeError", m + "() takes at least 1 argument (0 given)");
    std::vector<value> cands = p[0]->k == vkind::tuple ? *p[0]->seq() : std::vector<value>{*p[0]};
    for (auto& c : cands) {
      if (!c.is_str())
        raise("TypeError", m + " first arg must be str or a tuple of str, not " + type_name(c));
      bool hit = m == "startswith"
                   ? s.compare(0, c.s.size(), c.s) == 0
                   : s.size() >= c.s.size() && s.compare(s.size() - c.s.size(), c.s.size(), c.s) == 0;
      if (hit)
        return value::boolean(true);
    }
    return value::boolean(false);
  }
  if (m == "join") {
    auto p = p1("iterable");
    if (!p[0])
      raise("TypeError", "join() takes exactly one argument (0 given)");
    std::string out;
    bool first = true;
    for (auto& x : iterate(*p[0])) {
      if (!x.is_str())
        raise("TypeError", "sequence item: expected str instance, " + type_name(x) + " found");
      if (!first)
        out += s;
      first = false;
      out += x.s;
      ev.check_size(out.size());
    }
    return value::string(out);
  }
  if (m == "find" || m == "rfind" || m == "index" || m == "rindex" || m == "count") {
    auto p = bind_args(a, {"sub", "start", "end"}, m.c_str());
    if (!p[0] || !p[0]->is_str())
      raise("TypeError", "must be str");
    const std::string& sub = p[0]->s;
    if (m == "count") {
      if (sub.empty())
        return value::integer(static_cast<int_t>(u8_length(s) + 1));
      int_t c = 0;
      for (std::size_t pos = s.find(sub); pos != std::string::npos; pos = s.find(sub, pos + sub.size()))
        ++c;
      return value::integer(c);
    }
    std::size_t f = (m == "find" || m == "index") ? s.find(sub) : s.rfind(sub);
    if (f == std::string::npos) {
      if (m == "index" || m == "rindex")
        raise("ValueError", "substring not found");
      return value::integer(-1);
    }
    return value::integer(static_cast<int_t>(u8_length(s.substr(0, f))));
  }
  auto all_of = [&](auto pred) {
    if (s.empty())
      return value::boolean(false);
    for (unsigned char c : s)
      if (!pred(c))
        return value::boolean(false);
    return value::boolean(true);
  };
  if (m == "isdigit" || m == "isnumeric" || m == "isdecimal")
    return all_of([](unsigned char c) { return std::isdigit(c) != 0; });
  if (m == "isalpha")
    return all_of([](unsigned char c) { return std::isalpha(c) != 0; });
  if (m == "isalnum")
    return all_of([](unsigned char c) { return std::isalnum(c) != 0; });
  if (m == "isspace")
    return all_of([](unsigned char c) { return py_space(static_cast<char>(c)); });
  if (m == "islower" || m == "isupper") {
    call_args none;
    value sv = value::string(s);
    return value::boolean(m == "islower" ? t_lower(ev, sv, none) : t_upper(ev, sv, none));
  }
  if (m == "zfill" || m == "center" || m == "ljust" || m == "rjust") {
    auto p = bind_args(a, {"width", "fillchar"}, m.c_str());
    if (!p[0])
      raise("TypeError", m + "() takes at least 1 argument (0 given)");
    int_t w = to_index(*p[0], nullptr);
    std::string fill = p[1] ? need_str(*p[1]) : (m == "zfill" ? "0" : " ");
    auto len = static_cast<int_t>(u8_length(s));
    if (w <= len)
      return value::string(s);
    ev.check_size(static_cast<std::uint64_t>(w));
    std::size_t pad = static_cast<std::size_t>(w - len);
    auto rep = [&](std::size_t n) {
      std::string r;
      for (std::size_t k = 0; k < n; ++k)
        r += fill;
      return r;
    };
    if (m == "ljust")
      return value::string(s + rep(pad));
    if (m == "rjust")
      return value::string(rep(pad) + s);
    if (m == "zfill") {
      std::size_t at = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
      return value::string(s.substr(0, at) + rep(pad) + s.substr(at));
    }
    std::size_t left = pad / 2 + (pad & static_cast<std::size_t>(w) & 1);
    return value::string(rep(left) + s + rep(pad - left));
  }
  if (m == "format") {
    // str.format with automatic/explicit indexes and names (no format specs)
    std::string out;
    std::size_t auto_idx = 0;
    for (std::size_t n = 0; n < s.size(); ++n) {
      char c = s[n];
      if (c == '{' && n + 1 < s.size() && s[n + 1] == '{') {
        out += '{';
        ++n;
        continue;
      }
      if (c == '}' && n + 1 < s.size() && s[n + 1] == '}') {
        out += '}';
        ++n;
        continue;
      }
      if (c != '{') {
        out += c;
        continue;
      }
      std::size_t close = s.find('}', n);
      if (close == std::string::npos)
        raise("ValueError", "Single '{' encountered in format string");
      std::string field = s.substr(n + 1, close - n - 1);
      std::string spec;
      if (auto colon = field.find(':'); colon != std::string::npos) {
        spec = field.substr(colon + 1);
        field = field.substr(0, colon);
      }
      value v;
      if (field.empty()) {
        if (auto_idx >= a.pos.size())
          raise("IndexError",
                "Replacement index " + std::to_string(auto_idx) + " out of range for positional args tuple");
        v = a.pos[auto_idx++];
      } else if (std::all_of(field.begin(), field.end(),
                             [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
        std::size_t i = std::stoul(field);
        if (i >= a.pos.size())
          raise("IndexError", "Replacement index " + field + " out of range for positional args tuple");
        v = a.pos[i];
      } else {
        bool found = false;
        for (auto& [k, x] : a.kw)
          if (k == field) {
            v = x;
            found = true;
          }
        if (!found)
          raise("KeyError", "'" + field + "'");
      }
      if (!spec.empty() && v.k == vkind::floating && spec.size() >= 2 && spec[0] == '.' &&
          spec.back() == 'f') {
        char buf[512];
        std::snprintf(buf, sizeof buf, ("%" + spec).c_str(), v.f);
        out += buf;
      } else {
        out += need_str(v);
      }
      n = close;
    }
    return value::string(out);
  }
  if (m == "partition" || m == "rpartition") {
    auto p = p1("sep");
    if (!p[0] || !p[0]->is_str())
      raise("TypeError", "must be str");
    std::size_t f = m == "partition" ? s.find(p[0]->s) : s.rfind(p[0]->s);
    if (f == std::string::npos)
      return m == "partition" ? value::tuple({value::string(s), value::string(""), value::string("")})
                              : value::tuple({value::string(""), value::string(""), value::string(s)});
    return value::tuple(
      {value::string(s.substr(0, f)), value::string(p[0]->s), value::string(s.substr(f + p[0]->s.size()))});
  }
  raise("AttributeError", "'str' object has no attribute '" + m + "'");
}

const std::unordered_set<std::string>& str_methods() {
  static const std::unordered_set<std::string> names = {
    "upper",   "lower",   "casefold",  "capitalize", "title",   "swapcase",   "strip",     "lstrip",
    "rstrip",  "split",   "rsplit",    "splitlines", "replace", "startswith", "endswith",  "join",
    "find",    "rfind",   "index",     "rindex",     "count",   "isdigit",    "isnumeric", "isdecimal",
    "isalpha", "isalnum", "isspace",   "islower",    "isupper", "zfill",      "center",    "ljust",
    "rjust",   "format",  "partition", "rpartition"};
  return names;
}

value dict_method(evaluator&, const value& d, const std::string& m, call_args& a) {
  // keys/values/items are views in Python: lists here, printed as dict_keys([...])
  auto view = [](const char* name, std::vector<value> v) {
    value r = value::list(std::move(v));
    r.s = name;
    return r;
  };
  if (m == "keys") {
    bind_args(a, {}, "keys");
    return view("dict_keys", iterate(d));
  }
  if (m == "values") {
    bind_args(a, {}, "values");
    std::vector<value> out;
    for (auto& [k, x] : items(d))
      out.push_back(x);
    return view("dict_values", std::move(out));
  }
  if (m == "items") {
    bind_args(a, {}, "items");
    std::vector<value> out;
    for (auto& [k, x] : items(d))
      out.push_back(value::tuple({k, x}));
    return view("dict_items", std::move(out));
  }
  if (m == "get") {
    if (a.pos.empty() || a.pos.size() > 2 || !a.kw.empty())
      raise("TypeError", "get expected at least 1 argument, got " + std::to_string(a.pos.size()));
    check_defined(a.pos[0]);
    hash_key(a.pos[0]);
    if (auto got = map_get(d, a.pos[0]))
      return *got;
    return a.pos.size() > 1 ? a.pos[1] : value::none();
  }
  if (m == "copy") {
    dict_t out;
    for (auto& [k, x] : items(d))
      out.items.emplace_back(k, x);
    return value::dict(std::move(out));
  }
  if (d.k == vkind::dict) {
    if (m == "update") {
      for (auto& p : a.pos)
        for (auto& [k, x] : items(p))
          d.map()->set(k, x);
      for (auto& [k, x] : a.kw)
        d.map()->set(value::string(k), x);
      return value::none();
    }
    if (m == "pop" || m == "setdefault") {
      if (a.pos.empty())
        raise("TypeError", m + " expected at least 1 argument, got 0");
      auto& its = d.map()->items;
      for (auto it = its.begin(); it != its.end(); ++it)
        if (equal(it->first, a.pos[0])) {
          value v = it->second;
          if (m == "pop")
            its.erase(it);
          return v;
        }
      if (m == "setdefault") {
        value v = a.pos.size() > 1 ? a.pos[1] : value::none();
        its.emplace_back(a.pos[0], v);
        return v;
      }
      if (a.pos.size() > 1)
        return a.pos[1];
      raise("KeyError", repr(a.pos[0]));
    }
    if (m == "clear") {
      d.map()->items.clear();
      return value::none();
    }
  }
  raise("TypeError", "dict." + m + " cannot be called on read-only data");
}

value list_method(evaluator&, const value& l, const std::string& m, call_args& a) {
  if (m == "index" || m == "count") {
    if (a.pos.empty())
      raise("TypeError", m + " expected at least 1 argument, got 0");
    auto list = iterate(l);
    int_t c = 0;
    for (std::size_t n = 0; n < list.size(); ++n)
      if (equal(list[n], a.pos[0])) {
        if (m == "index")
          return value::integer(static_cast<int_t>(n));
        ++c;
      }
    if (m == "index")
      raise("ValueError", repr(a.pos[0]) + " is not in list");
    return value::integer(c);
  }
  if (m == "copy")
    return value::list(iterate(l));
  if (l.k == vkind::list) {
    auto& v = *l.seq();
    if (m == "append") {
      if (a.pos.size() != 1)
        raise("TypeError", "list.append() takes exactly one argument");
      v.push_back(a.pos[0]);
      return value::none();
    }
    if (m == "extend") {
      if (a.pos.size() != 1)
        raise("TypeError", "list.extend() takes exactly one argument");
      for (auto& x : iterate(a.pos[0]))
        v.push_back(x);
      return value::none();
    }
    if (m == "insert") {
      if (a.pos.size() != 2)
        raise("TypeError", "insert expected 2 arguments");
      int_t i = to_index(a.pos[0], nullptr), L = static_cast<int_t>(v.size());
      if (i < 0)
        i = std::max<int_t>(0, i + L);
      v.insert(v.begin() + static_cast<std::ptrdiff_t>(std::min(i, L)), a.pos[1]);
      return value::none();
    }
    if (m == "pop") {
      if (v.empty())
        raise("IndexError", "pop from empty list");
      int_t i = a.pos.empty() ? -1 : to_index(a.pos[0], nullptr), L = static_cast<int_t>(v.size());
      if (i < 0)
        i += L;
      if (i < 0 || i >= L)
        raise("IndexError", "pop index out of range");
      value x = v[static_cast<std::size_t>(i)];
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
      return x;
    }
    if (m == "reverse") {
      std::reverse(v.begin(), v.end());
      return value::none();
    }
    if (m == "sort") {
      auto p = bind_args(a, {"key", "reverse"}, "sort");
      if (p[0] && p[0]->k != vkind::none)
        raise("TypeError", "sort key functions are not supported");
      bool rev = arg_truthy(p[1], false);
      std::stable_sort(v.begin(), v.end(),
                       [rev](const value& x, const value& y) { return rev ? less(y, x) : less(x, y); });
      return value::none();
    }
    if (m == "remove") {
      if (a.pos.size() != 1)
        raise("TypeError", "list.remove() takes exactly one argument");
      for (auto it = v.begin(); it != v.end(); ++it)
        if (equal(*it, a.pos[0])) {
          v.erase(it);
          return value::none();
        }
      raise("ValueError", "list.remove(x): x not in list");
    }
    if (m == "clear") {
      v.clear();
      return value::none();
    }
  }
  raise("TypeError", "list." + m + " cannot be called on read-only data");
}

} // namespace

filter_fn find_filter(std::string_view name) {
  auto& t = filter_table();
  auto it = t.find(name);
  return it == t.end() ? nullptr : it->second;
}

test_fn find_test(std::string_view name) {
  auto& t = test_table();
  auto it = t.find(name);
  return it == t.end() ? nullptr : it->second;
}

std::optional<value> find_global(evaluator& ev, const std::string& name) {
  (void)ev;
  if (is_mistral_function(name))
    return value::callable(name,
                           [name](evaluator& e, call_args& a) { return mistral_fn(e, name, e.data(), a); });
  static const std::unordered_map<std::string, native_fn> globals = {{"range", g_range},
                                                                     {"dict", g_dict},
                                                                     {"namespace", g_namespace},
                                                                     {"joiner", g_joiner},
                                                                     {"cycler", g_cycler}};
  auto it = globals.find(name);
  if (it == globals.end())
    return std::nullopt;
  // The sandbox's range is a function; dict, namespace, joiner and cycler are classes.
  return value::callable(name, it->second, name == "range" ? "function" : "type");
}

std::optional<value> find_method(const value& obj, const std::string& name) {
  // A bound method of a builtin type (str.upper, dict.items, list.append).
  static const std::string builtin_method = "builtin_function_or_method";
  if (obj.is_str()) {
    if (!str_methods().count(name))
      return std::nullopt;
    std::string s = obj.s;
    return value::callable(
      "str." + name, [s, name](evaluator& ev, call_args& a) { return str_method(ev, s, name, a); },
      builtin_method);
  }
  if (obj.is_map()) {
    static const std::unordered_set<std::string> names = {"keys",  "values",  "items",   "get",
                                                          "copy",  "update",  "pop",     "setdefault",
                                                          "clear", "popitem", "fromkeys"};
    if (obj.k == vkind::dict && obj.b)
      return std::nullopt; // a namespace has attributes only
    if (!names.count(name))
      return std::nullopt;
    // `_` is Mistral's ContextView: these are methods it defines in Python.
    static const std::unordered_set<std::string> view_methods = {"get",    "keys",  "items", "values",
                                                                 "update", "clear", "pop",   "popitem"};
    bool python_defined = obj.k == vkind::view && view_methods.count(name);
    return value::callable(
      "dict." + name, [obj, name](evaluator& ev, call_args& a) { return dict_method(ev, obj, name, a); },
      python_defined ? "method" : builtin_method);
  }
  if (obj.k == vkind::integer || obj.k == vkind::floating) {
    if (name == "real" || name == "imag" ||
        (obj.k == vkind::integer && (name == "numerator" || name == "denominator"))) {
      if (name == "imag")
        return obj.k == vkind::integer ? value::integer(0) : value::floating(0.0);
      if (name == "denominator")
        return value::integer(1);
      return obj;
    }
    if (name == "is_integer" && obj.k == vkind::floating)
      return value::callable(
        "float.is_integer",
        [obj](evaluator&, call_args& a) {
          bind_args(a, {}, "is_integer");
          return value::boolean(std::isfinite(obj.f) && obj.f == std::floor(obj.f));
        },
        builtin_method);
    if (name == "bit_length" && obj.k == vkind::integer)
      return value::callable(
        "int.bit_length",
        [obj](evaluator&, call_args& a) {
          bind_args(a, {}, "bit_length");
          int_t x = obj.i < 0 ? -obj.i : obj.i;
          int_t bits = 0;
          while (x) {
            ++bits;
            x >>= 1;
          }
          return value::integer(bits);
        },
        builtin_method);
    return std::nullopt;
  }
  if (obj.is_seq()) {
    static const std::unordered_set<std::string> list_names = {
      "index", "count", "copy", "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"};
    static const std::unordered_set<std::string> tuple_names = {"index", "count"};
    if (!(obj.k == vkind::tuple ? tuple_names : list_names).count(name))
      return std::nullopt;
    return value::callable(
      "list." + name, [obj, name](evaluator& ev, call_args& a) { return list_method(ev, obj, name, a); },
      builtin_method);
  }
  return std::nullopt;
}

} // namespace mistral::expr::jinja

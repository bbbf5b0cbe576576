#include "dsl/expr/jinja_eval.hpp"

#include "dsl/expr/jinja_builtins.hpp"
#include "dsl/expr/py_value.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace mistral::expr::jinja {

namespace {

// Safety caps used when eval_env::lim leaves a limit unset (< 0).
constexpr std::uint64_t default_max_steps = 10'000'000;
constexpr std::uint64_t default_max_bytes = 64ull << 20;
constexpr std::int64_t default_max_items = 10'000'000;
/// Python's default recursion limit shows up as ~100 nested macro calls.
constexpr int max_depth = 100;

const int_t int_limit = static_cast<int_t>(1) << 126;

int_t checked(int_t v) {
  if (v > int_limit || v < -int_limit)
    raise("OverflowError", "integer result too large");
  return v;
}

int_t py_floordiv(int_t a, int_t b) {
  int_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

int_t py_mod(int_t a, int_t b) {
  int_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0)))
    r += b;
  return r;
}

double py_fmod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0)))
    r += b;
  if (r == 0)
    r = std::copysign(0.0, b);
  return r;
}

[[noreturn]] void unsupported(const char* op, const value& a, const value& b) {
  raise("TypeError", std::string("unsupported operand type(s) for ") + op + ": '" + type_name(a) + "' and '" +
                       type_name(b) + "'");
}

value repeat(evaluator& ev, const value& seq, int_t times) {
  if (times < 0)
    times = 0;
  if (seq.is_str()) {
    ev.check_size(static_cast<std::uint64_t>(seq.s.size()) *
                  static_cast<std::uint64_t>(std::min<int_t>(times, int_limit >> 64)));
    std::string out;
    out.reserve(seq.s.size() * static_cast<std::size_t>(times));
    for (int_t n = 0; n < times; ++n)
      out += seq.s;
    return value::string(std::move(out));
  }
  auto items = iterate(seq);
  std::uint64_t total = static_cast<std::uint64_t>(items.size()) *
                        static_cast<std::uint64_t>(std::min<int_t>(times, int_limit >> 64));
  if (times > (static_cast<int_t>(1) << 40) && !items.empty())
    total = std::numeric_limits<std::uint64_t>::max();
  ev.check_items(total);
  ev.check_size(total * 16);
  std::vector<value> out;
  out.reserve(static_cast<std::size_t>(total));
  for (int_t n = 0; n < times; ++n)
    out.insert(out.end(), items.begin(), items.end());
  return seq.k == vkind::tuple ? value::tuple(std::move(out)) : value::list(std::move(out));
}

value py_pow(const value& a, const value& b) {
  auto ia = as_int(a), ib = as_int(b);
  if (ia && ib) {
    if (*ib < 0) {
      if (*ia == 0)
        raise("ZeroDivisionError", "0.0 cannot be raised to a negative power");
      return value::floating(std::pow(static_cast<double>(*ia), static_cast<double>(*ib)));
    }
    int_t result = 1, base = *ia, e = *ib;
    while (e > 0) {
      if (e & 1) {
        if (base != 0 && (result > int_limit / (base < 0 ? -base : base)))
          raise("OverflowError", "integer result too large");
        result = checked(result * base);
      }
      e >>= 1;
      if (e > 0) {
        if (base > 0 && base > int_limit / base) {
          if (result != 0)
            raise("OverflowError", "integer result too large");
        } else if (base < 0 && -base > int_limit / -base) {
          raise("OverflowError", "integer result too large");
        } else {
          base = base * base;
        }
      }
    }
    return value::integer(result);
  }
  auto da = as_double(a), db = as_double(b);
  if (!da || !db)
    unsupported("** or pow()", a, b);
  if (*da == 0 && *db < 0)
    raise("ZeroDivisionError", "0.0 cannot be raised to a negative power");
  double r = std::pow(*da, *db);
  if (std::isnan(r) && !std::isnan(*da) && !std::isnan(*db))
    raise("ValueError", "math domain error");
  if (std::isinf(r) && std::isfinite(*da) && std::isfinite(*db))
    raise("OverflowError", "(34, 'Numerical result out of range')");
  return value::floating(r);
}

} // namespace

value binary_op(evaluator& ev, const std::string& op, const value& a, const value& b) {
  check_defined(a);
  check_defined(b);
  auto ia = as_int(a), ib = as_int(b);
  auto da = as_double(a), db = as_double(b);
  char c = op[0];
  bool floordiv = op == "//", power = op == "**";
  if (power)
    return py_pow(a, b);
  if (c == '+') {
    if (ia && ib)
      return value::integer(checked(*ia + *ib));
    if (da && db)
      return value::floating(*da + *db);
    if (a.is_str() && b.is_str()) {
      ev.check_size(a.s.size() + b.s.size());
      return value::string(a.s + b.s);
    }
    if (a.is_seq() && b.is_seq() && (a.k == vkind::tuple) == (b.k == vkind::tuple)) {
      auto x = iterate(a);
      auto y = iterate(b);
      x.insert(x.end(), y.begin(), y.end());
      return a.k == vkind::tuple ? value::tuple(std::move(x)) : value::list(std::move(x));
    }
    if (a.is_str())
      raise("TypeError", "can only concatenate str (not \"" + type_name(b) + "\") to str");
    if (a.is_seq() && b.k != vkind::tuple && a.k != vkind::tuple)
      raise("TypeError", "can only concatenate list (not \"" + type_name(b) + "\") to list");
    unsupported("+", a, b);
  }
  if (c == '-') {
    if (ia && ib)
      return value::integer(checked(*ia - *ib));
    if (da && db)
      return value::floating(*da - *db);
    unsupported("-", a, b);
  }
  if (c == '*') {
    if (ia && ib) {
      int_t x = *ia, y = *ib;
      int_t ax = x < 0 ? -x : x, ay = y < 0 ? -y : y;
      if (ax != 0 && ay > int_limit / ax)
        raise("OverflowError", "integer result too large");
      return value::integer(x * y);
    }
    if (da && db)
      return value::floating(*da * *db);
    if ((a.is_str() || a.is_seq()) && ib)
      return repeat(ev, a, *ib);
    if ((b.is_str() || b.is_seq()) && ia)
      return repeat(ev, b, *ia);
    if (a.is_str() || b.is_str() || a.is_seq() || b.is_seq())
      raise("TypeError", "can't multiply sequence by non-int of type '" +
                           type_name(a.is_str() || a.is_seq() ? b : a) + "'");
    unsupported("*", a, b);
  }
  if (c == '/' && !floordiv) {
    if (da && db) {
      if (*db == 0)
        raise("ZeroDivisionError", ia && ib ? "division by zero" : "float division by zero");
      return value::floating(*da / *db);
    }
    unsupported("/", a, b);
  }
  if (floordiv) {
    if (ia && ib) {
      if (*ib == 0)
        raise("ZeroDivisionError", "integer division or modulo by zero");
      return value::integer(py_floordiv(*ia, *ib));
    }
    if (da && db) {
      if (*db == 0)
        raise("ZeroDivisionError", "float floor division by zero");
      return value::floating(std::floor(*da / *db));
    }
    unsupported("//", a, b);
  }
  if (c == '%') {
    if (a.is_str())
      return value::string(percent_format(a.s, b));
    if (ia && ib) {
      if (*ib == 0)
        raise("ZeroDivisionError", "integer modulo by zero");
      return value::integer(py_mod(*ia, *ib));
    }
    if (da && db) {
      if (*db == 0)
        raise("ZeroDivisionError", "float modulo");
      return value::floating(py_fmod(*da, *db));
    }
    unsupported("%", a, b);
  }
  raise("TypeError", "unknown operator " + op);
}

bool contains(const value& hay, const value& needle) {
  check_defined(hay);
  check_defined(needle);
  if (hay.is_str()) {
    if (!needle.is_str())
      raise("TypeError", "'in <string>' requires string as left operand, not " + type_name(needle));
    return hay.s.find(needle.s) != std::string::npos;
  }
  if (hay.is_map()) {
    if (needle.k == vkind::list || needle.k == vkind::jlist || needle.is_map())
      raise("TypeError", "unhashable type: '" + type_name(needle) + "'");
    return map_get(hay, needle).has_value();
  }
  if (hay.is_seq()) {
    if (hay.k == vkind::jlist && needle.is_str()) {
      for (auto& e : *hay.j)
        if (e.is_string() && e.get_ref<const std::string&>() == needle.s)
          return true;
      return false;
    }
    for (auto& e : iterate(hay))
      if (equal(e, needle))
        return true;
    return false;
  }
  raise("TypeError", "argument of type '" + type_name(hay) + "' is not iterable");
}

namespace {

/// One %-conversion of Python's printf-style formatting.
std::string format_one(char conv, const std::string& flags, int width, int prec, const value& v) {
  std::string body;
  auto num = [&]() -> double {
    auto d = as_double(v);
    if (!d)
      raise("TypeError", std::string("%") + conv + " format: a real number is required, not " + type_name(v));
    return *d;
  };
  switch (conv) {
    case 's':
      body = str(v);
      if (prec >= 0)
        body = body.substr(0, static_cast<std::size_t>(prec));
      break;
    case 'r':
    case 'a':
      body = repr(v);
      if (prec >= 0)
        body = body.substr(0, static_cast<std::size_t>(prec));
      break;
    case 'd':
    case 'i':
    case 'u': {
      auto i = as_int(v);
      int_t x;
      if (i)
        x = *i;
      else if (v.k == vkind::floating)
        x = static_cast<int_t>(v.f);
      else
        raise("TypeError",
              std::string("%") + conv + " format: a real number is required, not " + type_name(v));
      body = int_to_string(x < 0 ? -x : x);
      if (prec >= 0 && body.size() < static_cast<std::size_t>(prec))
        body.insert(0, static_cast<std::size_t>(prec) - body.size(), '0');
      if (x < 0)
        body.insert(0, "-");
      else if (flags.find('+') != std::string::npos)
        body.insert(0, "+");
      else if (flags.find(' ') != std::string::npos)
        body.insert(0, " ");
      break;
    }
    case 'x':
    case 'X':
    case 'o': {
      auto i = as_int(v);
      if (!i)
        raise("TypeError", std::string("%") + conv + " format: an integer is required, not " + type_name(v));
      char buf[64];
      long long x = static_cast<long long>(*i);
      std::snprintf(buf, sizeof buf, conv == 'x' ? "%llx" : conv == 'X' ? "%llX" : "%llo", x < 0 ? -x : x);
      body = buf;
      if (flags.find('#') != std::string::npos)
        body.insert(0, conv == 'o' ? "0o" : conv == 'x' ? "0x" : "0X");
      if (x < 0)
        body.insert(0, "-");
      break;
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      double d = num();
      std::string f = "%" + flags + (prec >= 0 ? "." + std::to_string(prec) : "") + conv;
      char buf[512];
      std::snprintf(buf, sizeof buf, f.c_str(), d);
      body = buf;
      break;
    }
    case 'c': body = v.is_str() ? v.s : std::string(1, static_cast<char>(as_int(v).value_or(0))); break;
    default: raise("ValueError", std::string("unsupported format character '") + conv + "'");
  }
  if (width > (64 << 20))
    raise("MemoryError", "format width too large");
  if (width > 0 && u8_length(body) < static_cast<std::size_t>(width)) {
    std::size_t pad = static_cast<std::size_t>(width) - u8_length(body);
    if (flags.find('-') != std::string::npos)
      body.append(pad, ' ');
    else if (flags.find('0') != std::string::npos && conv != 's' && conv != 'r') {
      std::size_t at = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
      body.insert(at, pad, '0');
    } else
      body.insert(0, pad, ' ');
  }
  return body;
}

} // namespace

std::string percent_format(const std::string& fmt, const value& args) {
  std::vector<value> list;
  bool is_tuple = args.k == vkind::tuple;
  if (is_tuple)
    list = *args.seq();
  else
    list.push_back(args);
  std::size_t next = 0;
  bool mapping_used = false;
  std::string out;
  for (std::size_t n = 0; n < fmt.size(); ++n) {
    if (fmt[n] != '%') {
      out += fmt[n];
      continue;
    }
    if (++n >= fmt.size())
      raise("ValueError", "incomplete format");
    if (fmt[n] == '%') {
      out += '%';
      continue;
    }
    std::optional<value> keyed;
    if (fmt[n] == '(') {
      std::size_t close = fmt.find(')', n);
      if (close == std::string::npos)
        raise("ValueError", "incomplete format key");
      std::string key = fmt.substr(n + 1, close - n - 1);
      if (!args.is_map())
        raise("TypeError", "format requires a mapping");
      auto got = map_get(args, value::string(key));
      if (!got)
        raise("KeyError", "'" + key + "'");
      keyed = *got;
      mapping_used = true;
      n = close + 1;
    }
    std::string flags;
    while (n < fmt.size() && std::string("-+ #0").find(fmt[n]) != std::string::npos)
      flags += fmt[n++];
    auto number = [&]() {
      int w = -1;
      if (n < fmt.size() && fmt[n] == '*') {
        ++n;
        if (next >= list.size())
          raise("TypeError", "not enough arguments for format string");
        return static_cast<int>(std::clamp<int_t>(as_int(list[next++]).value_or(0), -(1 << 30), 1 << 30));
      }
      while (n < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[n])))
        w = std::min((w < 0 ? 0 : w * 10) + (fmt[n++] - '0'), 1 << 30);
      return w;
    };
    int width = number();
    int prec = -1;
    if (n < fmt.size() && fmt[n] == '.') {
      ++n;
      prec = std::max(0, number());
    }
    while (n < fmt.size() && (fmt[n] == 'l' || fmt[n] == 'h' || fmt[n] == 'L'))
      ++n;
    if (n >= fmt.size())
      raise("ValueError", "incomplete format");
    const value* arg;
    if (keyed) {
      arg = &*keyed;
    } else {
      if (next >= list.size())
        raise("TypeError", "not enough arguments for format string");
      arg = &list[next++];
    }
    out += format_one(fmt[n], flags, width, prec, *arg);
  }
  if (!mapping_used && next < list.size() && (is_tuple || !args.is_map()))
    raise("TypeError", "not all arguments converted during string formatting");
  return out;
}

// ------------------------------------------------------------------ evaluator

struct evaluator::depth_guard {
  evaluator& ev;
  explicit depth_guard(evaluator& e) : ev(e) {
    if (++ev.depth_ > max_depth) {
      --ev.depth_;
      raise("RecursionError", "maximum recursion depth exceeded");
    }
  }
  ~depth_guard() { --ev.depth_; }
};

evaluator::evaluator(const eval_env& env)
  : env_(env), max_steps_(default_max_steps),
    max_bytes_(env.lim.memory_quota >= 0 ? static_cast<std::uint64_t>(env.lim.memory_quota)
                                         : default_max_bytes),
    max_items_(env.lim.max_iterations >= 0 ? env.lim.max_iterations : default_max_items) {
  data_ = env.data.empty() ? value::none() : value::of_view(env.data);
  frames_.emplace_back();
  frame& root = frames_.back();
  root.emplace_back("_", data_);
}

void evaluator::tick(std::uint64_t n) {
  steps_ += n;
  if (steps_ > max_steps_)
    raise("MemoryError", "evaluation step limit exceeded");
}

void evaluator::check_size(std::uint64_t bytes) const {
  if (bytes > max_bytes_)
    raise("MemoryError", "result exceeds the memory quota of " + std::to_string(max_bytes_) + " bytes");
}

void evaluator::check_items(std::uint64_t count) const {
  if (count > static_cast<std::uint64_t>(max_items_))
    raise("MemoryError", "iteration exceeds the limit of " + std::to_string(max_items_) + " items");
}

value evaluator::lookup(const std::string& name) const {
  for (auto f = frames_.rbegin(); f != frames_.rend(); ++f)
    for (auto v = f->rbegin(); v != f->rend(); ++v)
      if (v->first == name)
        return v->second;
  // Mistral's get_jinja_context adds these for dict contexts; they are read
  // on use, not copied up front (a context may hold thousands of keys).
  if (data_.is_map() && (name == "__env" || name == "__execution" || name == "__task_execution")) {
    auto got = map_get(data_, value::string(name));
    return got ? *got : value::none();
  }
  auto g = find_global(const_cast<evaluator&>(*this), name);
  if (g)
    return *g;
  return value::undefined("'" + name + "' is undefined");
}

void evaluator::set_local(const std::string& name, value v) {
  frame& f = frames_.back();
  for (auto& kv : f)
    if (kv.first == name) {
      kv.second = std::move(v);
      return;
    }
  f.emplace_back(name, std::move(v));
}

void evaluator::assign(const node& target, const value& v) {
  if (target.kind == nk::name) {
    set_local(target.name, v);
    return;
  }
  if (target.kind == nk::nsref) {
    value ns = lookup(target.name);
    if (ns.k != vkind::dict || !ns.b)
      raise("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
    ns.map()->set(value::string(target.attr), v);
    return;
  }
  auto items = iterate(v);
  if (items.size() < target.kids.size())
    raise("ValueError", "not enough values to unpack (expected " + std::to_string(target.kids.size()) +
                          ", got " + std::to_string(items.size()) + ")");
  if (items.size() > target.kids.size())
    raise("ValueError", "too many values to unpack (expected " + std::to_string(target.kids.size()) + ")");
  for (std::size_t n = 0; n < items.size(); ++n)
    assign(*target.kids[n], items[n]);
}

call_args evaluator::eval_args(const node& n) {
  call_args a;
  for (auto& k : n.kids)
    a.pos.push_back(eval(*k));
  for (auto& [k, v] : n.kwargs)
    a.kw.emplace_back(k, eval(*v));
  if (n.c) {
    for (auto& e : iterate(eval(*n.c)))
      a.pos.push_back(e);
  }
  if (n.d) {
    for (auto& [k, v] : items(eval(*n.d))) {
      if (!k.is_str())
        raise("TypeError", "keywords must be strings");
      a.kw.emplace_back(k.s, v);
    }
  }
  return a;
}

value evaluator::call(const value& fn, call_args& args) {
  if (fn.k == vkind::callable) {
    tick();
    return fn.fn()->fn(*this, args);
  }
  if (fn.k == vkind::dict) { // the loop object of a recursive loop is callable
    if (const value* c = fn.map()->find(value::string("__call__")); c && c->k == vkind::callable)
      return call(*c, args);
  }
  check_defined(fn);
  raise("TypeError", "'" + type_name(fn) + "' object is not callable");
}

value evaluator::getattr(const value& obj, const std::string& name) {
  check_defined(obj);
  if (name.size() > 4 && name.compare(0, 2, "__") == 0 && name.compare(name.size() - 2, 2, "__") == 0)
    return value::undefined(
      "access to attribute '" + name + "' of '" + type_name(obj) + "' object is unsafe.", true);
  if (auto m = find_method(obj, name))
    return *m;
  if (obj.is_map()) {
    if (auto got = map_get(obj, value::string(name)))
      return *got;
  }
  if (obj.k == vkind::tuple && obj.s == "_GroupTuple" && (name == "grouper" || name == "list"))
    return (*obj.seq())[name == "grouper" ? 0 : 1];
  return value::undefined("'" + object_type_repr(obj) + "' has no attribute '" + name + "'");
}

namespace {

/// Python's slice.indices for a sequence of `len` items.
std::vector<std::size_t> slice_indices(evaluator& ev, const value& sl, std::size_t len) {
  auto part = [&](std::size_t n) -> std::optional<int_t> {
    const value& v = (*sl.seq())[n];
    if (v.k == vkind::none)
      return std::nullopt;
    return to_index(v, "slice indices must be integers or None or have an __index__ method");
  };
  auto step_o = part(2);
  int_t step = step_o.value_or(1);
  if (step == 0)
    raise("ValueError", "slice step cannot be zero");
  int_t L = static_cast<int_t>(len);
  auto clamp = [&](std::optional<int_t> v, int_t dflt) {
    if (!v)
      return dflt;
    int_t x = *v;
    if (x < 0)
      x += L;
    if (step > 0)
      return std::max<int_t>(0, std::min<int_t>(x, L));
    return std::max<int_t>(-1, std::min<int_t>(x, L - 1));
  };
  int_t start = clamp(part(0), step > 0 ? 0 : L - 1);
  int_t stop = clamp(part(1), step > 0 ? L : -1);
  std::vector<std::size_t> out;
  for (int_t i = start; step > 0 ? i < stop : i > stop; i += step)
    out.push_back(static_cast<std::size_t>(i));
  ev.tick(out.size());
  return out;
}

} // namespace

value evaluator::getitem(const value& obj, const value& key) {
  check_defined(obj);
  check_defined(key);
  bool is_slice = key.k == vkind::tuple && key.b; // slices are tagged tuples
  if (is_iterator(obj))
    return value::undefined(type_name(obj) + " object has no element " + repr(key));
  if (obj.is_str() || obj.is_seq()) {
    if (is_slice) {
      if (obj.is_str()) {
        auto chars = u8_chars(obj.s);
        std::string out;
        for (auto i : slice_indices(*this, key, chars.size()))
          out += chars[i];
        return value::string(std::move(out));
      }
      auto items = iterate(obj);
      std::vector<value> out;
      for (auto i : slice_indices(*this, key, items.size()))
        out.push_back(items[i]);
      return obj.k == vkind::tuple ? value::tuple(std::move(out)) : value::list(std::move(out));
    }
    if (auto idx = as_int(key)) {
      int_t i = *idx;
      if (obj.k == vkind::jlist) {
        int_t L = static_cast<int_t>(obj.j->size());
        if (i < 0)
          i += L;
        if (i >= 0 && i < L)
          return from_json_ref((*obj.j)[static_cast<std::size_t>(i)], obj.p);
      } else if (obj.is_str()) {
        auto chars = u8_chars(obj.s);
        int_t L = static_cast<int_t>(chars.size());
        if (i < 0)
          i += L;
        if (i >= 0 && i < L)
          return value::string(chars[static_cast<std::size_t>(i)]);
      } else {
        int_t L = static_cast<int_t>(obj.seq()->size());
        if (i < 0)
          i += L;
        if (i >= 0 && i < L)
          return (*obj.seq())[static_cast<std::size_t>(i)];
      }
      return value::undefined(object_type_repr(obj) + " has no element " + repr(key));
    }
  } else if (obj.is_map()) {
    if (key.k == vkind::list || key.k == vkind::jlist || key.is_map())
      return value::undefined(object_type_repr(obj) + " has no element " + repr(key));
    if (auto got = map_get(obj, key))
      return *got;
  }
  if (key.is_str()) {
    if (key.s.size() > 4 && key.s.compare(0, 2, "__") == 0 && key.s.compare(key.s.size() - 2, 2, "__") == 0)
      return value::undefined(
        "access to attribute '" + key.s + "' of '" + type_name(obj) + "' object is unsafe.", true);
    if (auto m = find_method(obj, key.s))
      return *m;
    return value::undefined("'" + object_type_repr(obj) + "' has no attribute '" + key.s + "'");
  }
  return value::undefined(object_type_repr(obj) + " has no element " + repr(key));
}

value evaluator::call_filter(const std::string& name, value subject, call_args& args) {
  filter_fn f = find_filter(name);
  if (!f)
    raise("TemplateRuntimeError", "No filter named '" + name + "'.");
  tick();
  return f(*this, subject, args);
}

bool evaluator::call_test(const std::string& name, const value& v, call_args& args) {
  test_fn t = find_test(name);
  if (!t)
    raise("TemplateRuntimeError", "No test named '" + name + "'.");
  tick();
  return t(*this, v, args);
}

value evaluator::eval_filter(const node& n) {
  value subject;
  if (n.a)
    subject = eval(*n.a);
  else if (block_subject_)
    subject = *block_subject_;
  call_args args = eval_args(n);
  tick();
  if (!n.filter)
    raise("TemplateRuntimeError", "No filter named '" + n.name + "' found.");
  return n.filter(*this, subject, args);
}

bool evaluator::eval_test(const node& n) {
  value subject = eval(*n.a);
  call_args args = eval_args(n);
  tick();
  if (!n.test)
    raise("TemplateRuntimeError", "No test named '" + n.name + "' found.");
  return n.test(*this, subject, args);
}

value evaluator::eval_compare(const node& n) {
  value left = eval(*n.a);
  for (std::size_t k = 0; k < n.ops.size(); ++k) {
    value right = eval(*n.kids[k]);
    const std::string& op = n.ops[k];
    bool ok;
    if (op == "==")
      ok = equal(left, right);
    else if (op == "!=")
      ok = !equal(left, right);
    else if (op == "<")
      ok = less(left, right);
    else if (op == ">")
      ok = less(right, left);
    else if (op == "<=")
      ok = less(left, right) || equal(left, right);
    else if (op == ">=")
      ok = less(right, left) || equal(left, right);
    else if (op == "in")
      ok = contains(right, left);
    else
      ok = !contains(right, left);
    if (!ok)
      return value::boolean(false);
    left = std::move(right);
  }
  return value::boolean(true);
}

value evaluator::eval_binop(const node& n) {
  value a = eval(*n.a);
  value b = eval(*n.b);
  return binary_op(*this, n.name, a, b);
}

value evaluator::eval(const node& n) {
  tick();
  switch (n.kind) {
    case nk::constant: return n.constant;
    case nk::name: return lookup(n.name);
    case nk::getattr: return getattr(eval(*n.a), n.name);
    case nk::getitem: return getitem(eval(*n.a), eval(*n.b));
    case nk::slice: {
      std::vector<value> parts;
      for (const node_ptr* p : {&n.a, &n.b, &n.c})
        parts.push_back(*p ? eval(**p) : value::none());
      value s = value::tuple(std::move(parts));
      s.b = true;
      return s;
    }
    case nk::call: {
      value fn = eval(*n.a);
      call_args args = eval_args(n);
      depth_guard g(*this);
      return call(fn, args);
    }
    case nk::filter: return eval_filter(n);
    case nk::test: return value::boolean(eval_test(n));
    case nk::neg:
    case nk::pos: {
      value v = eval(*n.a);
      check_defined(v);
      if (n.kind == nk::pos && v.is_num())
        return v.k == vkind::boolean ? value::integer(v.b) : v;
      if (auto i = as_int(v))
        return value::integer(-*i);
      if (v.k == vkind::floating)
        return value::floating(-v.f);
      raise("TypeError", std::string("bad operand type for unary ") + (n.kind == nk::neg ? "-" : "+") +
                           ": '" + type_name(v) + "'");
    }
    case nk::not_: return value::boolean(!truthy(eval(*n.a)));
    case nk::binop: return eval_binop(n);
    case nk::and_: {
      value l = eval(*n.a);
      return truthy(l) ? eval(*n.b) : l;
    }
    case nk::or_: {
      value l = eval(*n.a);
      return truthy(l) ? l : eval(*n.b);
    }
    case nk::concat: {
      std::string out;
      for (auto& k : n.kids) {
        value v = eval(*k);
        if (!v.is_lenient())
          check_defined(v);
        out += str(v);
        check_size(out.size());
      }
      return value::string(std::move(out));
    }
    case nk::compare: return eval_compare(n);
    case nk::condexpr:
      if (truthy(eval(*n.a)))
        return eval(*n.b);
      if (n.c)
        return eval(*n.c);
      return value::lenient_undefined("the inline if-expression on line " + std::to_string(n.line) +
                                      " evaluated to false and no else section was defined.");
    case nk::list:
    case nk::tuple: {
      std::vector<value> items;
      items.reserve(n.kids.size());
      for (auto& k : n.kids)
        items.push_back(eval(*k));
      return n.kind == nk::list ? value::list(std::move(items)) : value::tuple(std::move(items));
    }
    case nk::dict: {
      dict_t d;
      for (std::size_t k = 0; k < n.kids.size(); ++k) {
        value key = eval(*n.kids[k]);
        hash_key(key); // unhashable keys raise TypeError as in Python
        d.set(std::move(key), eval(*n.vals[k]));
      }
      return value::dict(std::move(d));
    }
    default: raise("TemplateRuntimeError", "statement used as an expression");
  }
}

// ------------------------------------------------------------------ statements

void evaluator::exec(const node_list& body, std::string& out) {
  for (auto& n : body)
    exec_one(*n, out);
}

value evaluator::apply_block_filter(const node& filter_chain, value text) {
  const value* saved = block_subject_;
  block_subject_ = &text;
  value r;
  try {
    r = eval(filter_chain);
  } catch (...) {
    block_subject_ = saved;
    throw;
  }
  block_subject_ = saved;
  return r;
}

void evaluator::exec_one(const node& n, std::string& out) {
  tick();
  switch (n.kind) {
    case nk::output:
      for (auto& k : n.kids) {
        if (k->kind == nk::data) {
          out += k->name;
        } else {
          value v = eval(*k);
          if (!v.is_lenient())
            check_defined(v);
          out += autoescape_ ? html_escape(str(v)) : str(v);
        }
        check_size(out.size());
      }
      return;
    case nk::if_:
      if (truthy(eval(*n.a)))
        exec(n.body, out);
      else
        exec(n.else_, out);
      return;
    case nk::for_: exec_for(n, eval(*n.b), out, 1); return;
    case nk::assign: assign(*n.a, eval(*n.b)); return;
    case nk::assign_block: {
      std::string text;
      exec(n.body, text);
      value v = value::string(std::move(text));
      if (n.c)
        v = apply_block_filter(*n.c, std::move(v));
      assign(*n.a, v);
      return;
    }
    case nk::with: {
      std::vector<value> vals;
      for (auto& v : n.vals)
        vals.push_back(eval(*v));
      frames_.emplace_back();
      try {
        for (std::size_t k = 0; k < n.kids.size(); ++k)
          assign(*n.kids[k], vals[k]);
        exec(n.body, out);
      } catch (...) {
        frames_.pop_back();
        throw;
      }
      frames_.pop_back();
      return;
    }
    case nk::scope: {
      bool saved = autoescape_;
      if (n.a)
        autoescape_ = truthy(eval(*n.a));
      frames_.emplace_back();
      try {
        exec(n.body, out);
      } catch (...) {
        frames_.pop_back();
        autoescape_ = saved;
        throw;
      }
      frames_.pop_back();
      autoescape_ = saved;
      return;
    }
    case nk::macro: set_local(n.name, make_macro(n)); return;
    case nk::no_loader: raise("TypeError", "no loader for this environment specified");
    case nk::call_block: {
      const node& call_node = *n.a;
      value fn = eval(*call_node.a);
      call_args args = eval_args(call_node);
      const node* block = &n;
      args.kw.emplace_back(
        "caller", value::callable(
                    "caller",
                    [block](evaluator& ev, call_args& a) {
                      ev.frames_.emplace_back();
                      std::string text;
                      try {
                        for (std::size_t k = 0; k < block->kids.size(); ++k) {
                          value v;
                          if (k < a.pos.size())
                            v = a.pos[k];
                          else {
                            std::size_t d = k + block->vals.size() - block->kids.size();
                            if (k + block->vals.size() >= block->kids.size() && d < block->vals.size())
                              v = ev.eval(*block->vals[d]);
                            else
                              v =
                                value::undefined("parameter '" + block->kids[k]->name + "' was not provided");
                          }
                          ev.set_local(block->kids[k]->name, v);
                        }
                        ev.exec(block->body, text);
                      } catch (...) {
                        ev.frames_.pop_back();
                        throw;
                      }
                      ev.frames_.pop_back();
                      return value::string(std::move(text));
                    },
                    "Macro"));
      depth_guard g(*this);
      value v = call(fn, args);
      check_defined(v);
      out += str(v);
      return;
    }
    case nk::filter_block: {
      std::string text;
      exec(n.body, text);
      value v = apply_block_filter(*n.c, value::string(std::move(text)));
      check_defined(v);
      out += str(v);
      return;
    }
    default: {
      value v = eval(n);
      out += str(v);
    }
  }
}

value evaluator::make_macro(const node& n) {
  const node* m = &n;
  return value::callable(
    n.name,
    [m](evaluator& ev, call_args& a) {
      depth_guard g(ev);
      std::size_t nargs = m->kids.size();
      std::size_t first_default = nargs - m->vals.size();
      ev.frames_.emplace_back();
      std::string text;
      try {
        std::vector<std::pair<std::string, value>> kw = a.kw;
        for (std::size_t k = 0; k < nargs; ++k) {
          const std::string& pname = m->kids[k]->name;
          value v;
          bool have = false;
          if (k < a.pos.size()) {
            v = a.pos[k];
            have = true;
          }
          for (auto it = kw.begin(); it != kw.end(); ++it)
            if (it->first == pname) {
              if (have)
                raise("TypeError",
                      "macro '" + m->name + "' got multiple values for argument '" + pname + "'");
              v = it->second;
              have = true;
              kw.erase(it);
              break;
            }
          if (!have) {
            if (k >= first_default)
              v = ev.eval(*m->vals[k - first_default]);
            else
              v = value::undefined("parameter '" + pname + "' was not provided");
          }
          ev.set_local(pname, v);
        }
        auto uses = [m](const char* name) {
          return std::find(m->ops.begin(), m->ops.end(), name) != m->ops.end();
        };
        if (a.pos.size() > nargs && !uses("varargs"))
          raise("TypeError",
                "macro '" + m->name + "' takes not more than " + std::to_string(nargs) + " argument(s)");
        for (auto& [k, v] : kw)
          if (!uses("kwargs") && !(k == "caller" && uses("caller")))
            raise("TypeError", "macro '" + m->name + "' takes no keyword argument '" + k + "'");
        std::vector<value> extra;
        for (std::size_t k = nargs; k < a.pos.size(); ++k)
          extra.push_back(a.pos[k]);
        ev.set_local("varargs", value::tuple(extra));
        dict_t kwd;
        for (auto& [k, v] : kw) {
          if (k == "caller") {
            ev.set_local("caller", v);
            continue;
          }
          kwd.set(value::string(k), v);
        }
        ev.set_local("kwargs", value::dict(std::move(kwd)));
        ev.exec(m->body, text);
      } catch (...) {
        ev.frames_.pop_back();
        throw;
      }
      ev.frames_.pop_back();
      return value::string(std::move(text));
    },
    "Macro");
}

void evaluator::exec_for(const node& n, const value& seq, std::string& out, int depth) {
  // A native list is walked in place; everything else is materialised once.
  bool in_place = (seq.k == vkind::list || seq.k == vkind::tuple) && !n.c;
  std::vector<value> items;
  if (!in_place)
    items = iterate(seq);
  const std::vector<value>& source = in_place ? *seq.seq() : items;
  check_items(source.size());
  std::size_t len = 0;
  frames_.emplace_back();
  try {
    if (n.c) {
      std::vector<value> kept;
      for (auto& v : items) {
        assign(*n.a, v);
        if (truthy(eval(*n.c)))
          kept.push_back(v);
      }
      items = std::move(kept);
    }
    frames_.back().clear();
    const std::vector<value>& all = n.c ? items : source;
    len = all.size();
    auto changed_last = std::make_shared<std::optional<value>>();
    bool wants_loop = !n.ops.empty() && n.ops.back() == "loop";
    for (std::size_t k = 0; k < len; ++k) {
      tick();
      if (k >= all.size())
        break; // the body shortened the list it walks
      if (!wants_loop) {
        assign(*n.a, all[k]);
        exec(n.body, out);
        continue;
      }
      dict_t loop;
      auto put = [&](const char* key, value v) { loop.items.emplace_back(value::string(key), std::move(v)); };
      put("index", value::integer(static_cast<int_t>(k + 1)));
      put("index0", value::integer(static_cast<int_t>(k)));
      put("revindex", value::integer(static_cast<int_t>(len - k)));
      put("revindex0", value::integer(static_cast<int_t>(len - k - 1)));
      put("first", value::boolean(k == 0));
      put("last", value::boolean(k + 1 == len));
      put("length", value::integer(static_cast<int_t>(len)));
      put("depth", value::integer(depth));
      put("depth0", value::integer(depth - 1));
      if (n.flag) { // a recursive loop: loop(items) renders the body one level deeper
        const node* loop_node = &n;
        put("__call__", value::callable("loop", [loop_node, depth](evaluator& ev, call_args& a) {
              if (a.pos.size() != 1 || !a.kw.empty())
                raise("TypeError", "loop() takes exactly one argument");
              depth_guard g(ev);
              std::string text;
              ev.exec_for(*loop_node, a.pos[0], text, depth + 1);
              return value::string(std::move(text));
            }));
      }
      if (k > 0)
        put("previtem", all[k - 1]);
      if (k + 1 < len && k + 1 < all.size())
        put("nextitem", all[k + 1]);
      put("cycle", value::callable("cycle", [k](evaluator&, call_args& a) {
            if (a.pos.empty())
              raise("TypeError", "no items for cycling given");
            return a.pos[k % a.pos.size()];
          }));
      put("changed", value::callable("changed", [changed_last](evaluator&, call_args& a) {
            value cur = value::tuple(a.pos);
            if (*changed_last && equal(**changed_last, cur))
              return value::boolean(false);
            *changed_last = cur;
            return value::boolean(true);
          }));
      set_local("loop", value::dict(std::move(loop)));
      assign(*n.a, all[k]);
      exec(n.body, out);
    }
    frames_.pop_back();
  } catch (...) {
    frames_.pop_back();
    throw;
  }
  if (len == 0)
    exec(n.else_, out);
}

} // namespace mistral::expr::jinja

#include "dsl/expr/jinja_value.hpp"

#include "dsl/expr/py_value.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mistral::expr::jinja {

void raise(std::string cls, std::string msg) {
  throw py_error{std::move(cls), std::move(msg)};
}

void fail_undefined(const value& v) {
  raise(v.b ? "SecurityError" : "UndefinedError", v.s);
}

const value* dict_t::find(const value& key) const {
  for (auto& [k, v] : items)
    if (equal(k, key))
      return &v;
  return nullptr;
}

void dict_t::set(value key, value v) {
  for (auto& [k, old] : items)
    if (equal(k, key)) {
      old = std::move(v);
      return;
    }
  items.emplace_back(std::move(key), std::move(v));
}

value value::boolean(bool v) {
  value r;
  r.k = vkind::boolean;
  r.b = v;
  return r;
}

value value::integer(int_t v) {
  value r;
  r.k = vkind::integer;
  r.i = v;
  return r;
}

value value::floating(double v) {
  value r;
  r.k = vkind::floating;
  r.f = v;
  return r;
}

value value::string(std::string v) {
  value r;
  r.k = vkind::string;
  r.s = std::move(v);
  return r;
}

value value::list(std::vector<value> v) {
  value r;
  r.k = vkind::list;
  r.p = std::make_shared<std::vector<value>>(std::move(v));
  return r;
}

value value::tuple(std::vector<value> v) {
  value r = list(std::move(v));
  r.k = vkind::tuple;
  return r;
}

value value::dict(dict_t d) {
  value r;
  r.k = vkind::dict;
  r.p = std::make_shared<dict_t>(std::move(d));
  return r;
}

value value::undefined(std::string message, bool security) {
  value r;
  r.k = vkind::undefined;
  r.s = std::move(message);
  r.b = security;
  return r;
}

value value::lenient_undefined(std::string message) {
  value r = undefined(std::move(message));
  r.i = 1;
  return r;
}

value value::callable(std::string name, native_fn f, std::string py_type) {
  value r;
  r.k = vkind::callable;
  r.p = std::make_shared<callable_t>(callable_t{std::move(name), std::move(f), std::move(py_type)});
  return r;
}

value make_iterator(std::vector<value> items, const char* type_name) {
  value r = value::list(std::move(items));
  r.s = std::string("#") + type_name;
  return r;
}

std::string special_list_type(const value& v) {
  if (v.k != vkind::list || v.s.empty())
    return "";
  if (v.s[0] == '=')
    return "range";
  if (v.s[0] == '#')
    return v.s.substr(1);
  return v.s;
}

value value::ref(const json& node) {
  return from_json_ref(node, nullptr);
}

value value::owned(json node) {
  auto holder = std::make_shared<json>(std::move(node));
  return from_json_ref(*holder, holder);
}

value value::of_view(const data_view& v) {
  if (v.is_single())
    return ref(v.root());
  value r;
  r.k = vkind::view;
  r.dv = &v;
  return r;
}

value from_json_ref(const json& node, const std::shared_ptr<void>& owner) {
  switch (node.type()) {
    case json::value_t::null: return value::none();
    case json::value_t::boolean: return value::boolean(node.get<bool>());
    case json::value_t::number_integer: return value::integer(node.get<std::int64_t>());
    case json::value_t::number_unsigned: return value::integer(node.get<std::uint64_t>());
    case json::value_t::number_float: return value::floating(node.get<double>());
    case json::value_t::string: return value::string(node.get_ref<const std::string&>());
    case json::value_t::array:
    case json::value_t::object: {
      value r;
      r.k = node.is_array() ? vkind::jlist : vkind::jdict;
      r.j = &node;
      r.p = owner;
      return r;
    }
    default: return value::none();
  }
}

namespace {

/// The merged JSON of a layered view (first layer wins), for whole-`_` uses.
value materialized(const value& v) {
  return value::owned(v.dv->materialize());
}

} // namespace

std::string int_to_string(int_t v) {
  if (v == 0)
    return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string out;
  while (u) {
    out.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (neg)
    out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<int_t> as_int(const value& v) {
  if (v.k == vkind::integer)
    return v.i;
  if (v.k == vkind::boolean)
    return v.b ? 1 : 0;
  return std::nullopt;
}

std::optional<double> as_double(const value& v) {
  if (v.k == vkind::floating)
    return v.f;
  if (auto i = as_int(v))
    return static_cast<double>(*i);
  return std::nullopt;
}

std::string type_name(const value& v) {
  if (is_iterator(v))
    return v.s.substr(1);
  switch (v.k) {
    case vkind::undefined: return "StrictUndefined";
    case vkind::none: return "NoneType";
    case vkind::boolean: return "bool";
    case vkind::integer: return "int";
    case vkind::floating: return "float";
    case vkind::string: return "str";
    case vkind::list:
    case vkind::jlist: return "list";
    case vkind::tuple: return "tuple";
    case vkind::dict:
    case vkind::jdict:
    case vkind::view: return "dict";
    case vkind::callable: return v.fn()->py_type;
  }
  return "object";
}

std::string object_type_repr(const value& v) {
  if (v.k == vkind::none)
    return "None";
  if (v.k == vkind::view)
    return "mistral.workflow.data_flow.ContextView object"; // `_` in a workflow is a ContextView
  return type_name(v) + " object";
}

bool truthy(const value& v) {
  switch (v.k) {
    case vkind::undefined:
      if (v.is_lenient())
        return false;
      fail_undefined(v);
    case vkind::none: return false;
    case vkind::boolean: return v.b;
    case vkind::integer: return v.i != 0;
    case vkind::floating: return v.f != 0.0;
    case vkind::string: return !v.s.empty();
    case vkind::list: return is_iterator(v) || !v.seq()->empty();
    case vkind::tuple: return !v.seq()->empty();
    case vkind::dict: return !v.map()->items.empty();
    case vkind::jlist:
    case vkind::jdict: return !v.j->empty();
    case vkind::view:
      for (auto* l : v.dv->layers())
        if (!l->empty())
          return true;
      return false;
    case vkind::callable: return true;
  }
  return true;
}

std::size_t u8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

std::vector<std::string> u8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = 1;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0)
      n = 4;
    else if (c >= 0xE0)
      n = 3;
    else if (c >= 0xC0)
      n = 2;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

namespace {

unsigned decode_cp(const std::string& s, std::size_t& n) {
  auto c = static_cast<unsigned char>(s[n]);
  std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  unsigned cp = len == 1 ? c : c & (0xFF >> (len + 1));
  for (std::size_t m = 1; m < len && n + m < s.size(); ++m)
    cp = (cp << 6) | (static_cast<unsigned char>(s[n + m]) & 0x3F);
  n += len;
  return cp;
}

void encode_cp(std::string& out, unsigned cp) {
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

/// Latin Extended-A pairs upper case on the even code point, except in the
/// ranges where the odd one is upper case.
bool ext_a_odd_upper(unsigned cp) {
  return (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
}

unsigned to_upper_cp(unsigned cp) {
  if (cp >= 'a' && cp <= 'z')
    return cp - 32;
  if (cp < 0x80)
    return cp;
  if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7))
    return cp - 32;
  if (cp == 0xFF)
    return 0x178;
  if (cp == 0xB5)
    return 0x39C;
  if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 && cp != 0x17F) {
    bool odd_upper = ext_a_odd_upper(cp);
    bool is_lower = odd_upper ? (cp % 2 == 0) : (cp % 2 == 1);
    return is_lower ? cp - 1 : cp;
  }
  if (cp == 0x131)
    return 'I';
  if (cp == 0x17F)
    return 'S';
  if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2)
    return cp - 32;
  if (cp == 0x3C2)
    return 0x3A3;
  if (cp >= 0x3AC && cp <= 0x3AF)
    return cp == 0x3AC ? 0x386 : cp - 37;
  if (cp >= 0x430 && cp <= 0x44F)
    return cp - 32;
  if (cp >= 0x450 && cp <= 0x45F)
    return cp - 80;
  return cp;
}

unsigned to_lower_cp(unsigned cp) {
  if (cp >= 'A' && cp <= 'Z')
    return cp + 32;
  if (cp < 0x80)
    return cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
    return cp + 32;
  if (cp == 0x178)
    return 0xFF;
  if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 && cp != 0x17F) {
    bool odd_upper = ext_a_odd_upper(cp);
    bool is_upper = odd_upper ? (cp % 2 == 1) : (cp % 2 == 0);
    return is_upper ? cp + 1 : cp;
  }
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
    return cp + 32;
  if (cp == 0x386)
    return 0x3AC;
  if (cp >= 0x388 && cp <= 0x38A)
    return cp + 37;
  if (cp >= 0x410 && cp <= 0x42F)
    return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F)
    return cp + 80;
  return cp;
}

} // namespace

std::string u8_upper(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t n = 0; n < s.size();) {
    unsigned cp = decode_cp(s, n);
    if (cp == 0xDF)
      out += "SS"; // German sharp s upper-cases to two letters
    else
      encode_cp(out, to_upper_cp(cp));
  }
  return out;
}

std::string u8_lower(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t n = 0; n < s.size();) {
    unsigned cp = decode_cp(s, n);
    if (cp == 0x130)
      out += "i\xcc\x87"; // İ lower-cases to i + combining dot
    else
      encode_cp(out, to_lower_cp(cp));
  }
  return out;
}

std::size_t length(const value& v) {
  switch (v.k) {
    case vkind::undefined:
      if (v.is_lenient())
        return 0;
      fail_undefined(v);
    case vkind::string: return u8_length(v.s);
    case vkind::list:
      if (is_iterator(v))
        raise("TypeError", "object of type '" + type_name(v) + "' has no len()");
      return v.seq()->size();
    case vkind::tuple: return v.seq()->size();
    case vkind::dict: return v.map()->items.size();
    case vkind::jlist:
    case vkind::jdict: return v.j->size();
    case vkind::view: return materialized(v).j->size();
    default: raise("TypeError", "object of type '" + type_name(v) + "' has no len()");
  }
}

std::vector<value> iterate(const value& v) {
  std::vector<value> out;
  switch (v.k) {
    case vkind::undefined:
      if (v.is_lenient())
        return out;
      fail_undefined(v);
    case vkind::string:
      for (auto& c : u8_chars(v.s))
        out.push_back(value::string(std::move(c)));
      return out;
    case vkind::list:
    case vkind::tuple: return *v.seq();
    case vkind::dict:
      for (auto& kv : v.map()->items)
        out.push_back(kv.first);
      return out;
    case vkind::jlist:
      out.reserve(v.j->size());
      for (auto& e : *v.j)
        out.push_back(from_json_ref(e, v.p));
      return out;
    case vkind::jdict:
      out.reserve(v.j->size());
      for (auto it = v.j->begin(); it != v.j->end(); ++it)
        out.push_back(value::string(it.key()));
      return out;
    case vkind::view: return iterate(materialized(v));
    default: raise("TypeError", "'" + type_name(v) + "' object is not iterable");
  }
}

std::vector<std::pair<value, value>> items(const value& v) {
  std::vector<std::pair<value, value>> out;
  switch (v.k) {
    case vkind::undefined: fail_undefined(v);
    case vkind::dict: return v.map()->items;
    case vkind::jdict:
      for (auto it = v.j->begin(); it != v.j->end(); ++it)
        out.emplace_back(value::string(it.key()), from_json_ref(it.value(), v.p));
      return out;
    case vkind::view: return items(materialized(v));
    default: raise("TypeError", "'" + type_name(v) + "' object has no attribute 'items'");
  }
}

std::optional<value> map_get(const value& m, const value& key) {
  switch (m.k) {
    case vkind::dict:
      if (auto* f = m.map()->find(key))
        return *f;
      return std::nullopt;
    case vkind::jdict: {
      if (!key.is_str())
        return std::nullopt;
      auto it = m.j->find(key.s);
      if (it == m.j->end())
        return std::nullopt;
      return from_json_ref(*it, m.p);
    }
    case vkind::view: {
      if (!key.is_str())
        return std::nullopt;
      if (auto* f = m.dv->find(key.s))
        return value::ref(*f);
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

namespace {

bool seq_equal(const std::vector<value>& a, const std::vector<value>& b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t n = 0; n < a.size(); ++n)
    if (!equal(a[n], b[n]))
      return false;
  return true;
}

bool map_equal(const value& a, const value& b) {
  auto ia = items(a);
  if (ia.size() != length(b))
    return false;
  for (auto& [k, v] : ia) {
    auto o = map_get(b, k);
    if (!o || !equal(v, *o))
      return false;
  }
  return true;
}

} // namespace

bool equal(const value& a, const value& b) {
  check_defined(a);
  check_defined(b);
  if (is_iterator(a) || is_iterator(b)) // iterators compare by identity
    return a.p == b.p;
  if (special_list_type(a) != special_list_type(b) && (a.is_seq() || b.is_seq()))
    return false; // dict_keys([...]) != [...], range(0, 2) != [0, 1]
  if (a.is_num() && b.is_num()) {
    if (a.k == vkind::floating || b.k == vkind::floating)
      return *as_double(a) == *as_double(b);
    return *as_int(a) == *as_int(b);
  }
  if (a.k == vkind::none || b.k == vkind::none)
    return a.k == b.k;
  if (a.is_str() || b.is_str())
    return a.is_str() && b.is_str() && a.s == b.s;
  if ((a.k == vkind::jlist || a.k == vkind::jdict) && (b.k == vkind::jlist || b.k == vkind::jdict))
    return py_equal(*a.j, *b.j);
  if (a.k == vkind::tuple || b.k == vkind::tuple)
    return a.k == b.k && seq_equal(*a.seq(), *b.seq());
  if (a.is_seq() && b.is_seq())
    return seq_equal(iterate(a), iterate(b));
  if (a.is_map() && b.is_map())
    return map_equal(a, b);
  if (a.k == vkind::callable && b.k == vkind::callable)
    return a.p == b.p;
  return false;
}

bool less(const value& a, const value& b) {
  check_defined(a);
  check_defined(b);
  if (a.is_num() && b.is_num()) {
    if (a.k == vkind::floating || b.k == vkind::floating)
      return *as_double(a) < *as_double(b);
    return *as_int(a) < *as_int(b);
  }
  if (a.is_str() && b.is_str())
    return a.s < b.s;
  bool tuples = a.k == vkind::tuple && b.k == vkind::tuple;
  bool lists = a.is_seq() && b.is_seq() && a.k != vkind::tuple && b.k != vkind::tuple;
  if (tuples || lists) {
    auto x = iterate(a), y = iterate(b);
    for (std::size_t n = 0; n < x.size() && n < y.size(); ++n) {
      if (equal(x[n], y[n]))
        continue;
      return less(x[n], y[n]);
    }
    return x.size() < y.size();
  }
  raise("TypeError",
        "'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

std::string repr(const value& v) {
  switch (v.k) {
    case vkind::undefined: fail_undefined(v);
    case vkind::none: return "None";
    case vkind::boolean: return v.b ? "True" : "False";
    case vkind::integer: return int_to_string(v.i);
    case vkind::floating: return py_float_repr(v.f);
    case vkind::string: return py_repr(json(v.s));
    case vkind::list:
    case vkind::tuple: {
      if (!v.s.empty() && v.s[0] == '=')
        return v.s.substr(1); // a range: its own repr
      if (is_iterator(v))
        return "<" + v.s.substr(1) + " object>";
      bool tup = v.k == vkind::tuple;
      std::string out = v.s.empty() || tup ? "" : v.s + "(";
      out += tup ? "(" : "[";
      for (std::size_t n = 0; n < v.seq()->size(); ++n) {
        if (n)
          out += ", ";
        out += repr((*v.seq())[n]);
      }
      if (tup && v.seq()->size() == 1)
        out += ",";
      out += tup ? ")" : "]";
      return v.s.empty() || tup ? out : out + ")";
    }
    case vkind::dict: {
      std::string out = v.b ? "<Namespace {" : "{";
      bool first = true;
      for (auto& [k, x] : v.map()->items) {
        if (!first)
          out += ", ";
        first = false;
        out += repr(k) + ": " + repr(x);
      }
      return out + (v.b ? "}>" : "}");
    }
    case vkind::jlist:
    case vkind::jdict: return py_repr(*v.j);
    case vkind::view: return py_repr(v.dv->materialize());
    case vkind::callable: return "<function " + v.fn()->name + ">";
  }
  return "";
}

std::string str(const value& v) {
  if (v.k == vkind::string)
    return v.s;
  if (v.is_lenient())
    return "";
  return repr(v);
}

std::string hash_key(const value& v) {
  switch (v.k) {
    case vkind::undefined: fail_undefined(v);
    case vkind::none: return "N";
    case vkind::boolean:
    case vkind::integer: return "n" + int_to_string(*as_int(v));
    case vkind::floating:
      if (std::isfinite(v.f) && v.f == std::floor(v.f) && std::fabs(v.f) < 1e30)
        return "n" + int_to_string(static_cast<int_t>(v.f));
      return "f" + py_float_repr(v.f);
    case vkind::string: return "s" + v.s;
    case vkind::tuple: {
      std::string out = "t(";
      for (auto& e : *v.seq())
        out += hash_key(e) + ",";
      return out + ")";
    }
    case vkind::callable: return "c" + v.fn()->name;
    default: raise("TypeError", "unhashable type: '" + type_name(v) + "'");
  }
}

namespace {

json int_json(int_t v) {
  if (v >= std::numeric_limits<std::int64_t>::min() && v <= std::numeric_limits<std::int64_t>::max())
    return json(static_cast<std::int64_t>(v));
  if (v > 0 && v <= static_cast<int_t>(std::numeric_limits<std::uint64_t>::max()))
    return json(static_cast<std::uint64_t>(v));
  raise("OverflowError", "integer too large to store: " + int_to_string(v));
}

/// json.dumps' key conversion: str stays, numbers and constants become text.
std::string json_key(const value& k) {
  switch (k.k) {
    case vkind::string: return k.s;
    case vkind::integer: return int_to_string(k.i);
    case vkind::boolean: return k.b ? "true" : "false";
    case vkind::none: return "null";
    case vkind::floating: return py_float_repr(k.f);
    default: raise("TypeError", "keys must be str, int, float, bool or None, not " + type_name(k));
  }
}

} // namespace

json to_json(const value& v) {
  switch (v.k) {
    case vkind::undefined: fail_undefined(v);
    case vkind::none: return nullptr;
    case vkind::boolean: return v.b;
    case vkind::integer: return int_json(v.i);
    case vkind::floating:
      if (!std::isfinite(v.f))
        raise("ValueError", "Out of range float values are not JSON compliant");
      return v.f;
    case vkind::string: return v.s;
    case vkind::list:
    case vkind::tuple: {
      json out = json::array();
      for (auto& e : *v.seq())
        out.push_back(to_json(e));
      return out;
    }
    case vkind::dict: {
      json out = json::object();
      for (auto& [k, x] : v.map()->items)
        out[json_key(k)] = to_json(x);
      return out;
    }
    case vkind::jlist:
    case vkind::jdict: return *v.j;
    case vkind::view: return v.dv->materialize();
    case vkind::callable: raise("TypeError", "Object of type function is not JSON serializable");
  }
  return nullptr;
}

namespace {

void dump_string(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  auto u4 = [&](unsigned cp) {
    out += "\\u";
    for (int sh = 12; sh >= 0; sh -= 4)
      out += hex[(cp >> sh) & 0xF];
  };
  out += '"';
  for (std::size_t n = 0; n < s.size();) {
    auto c = static_cast<unsigned char>(s[n]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20)
            u4(c);
          else
            out += static_cast<char>(c);
      }
      ++n;
      continue;
    }
    unsigned cp = 0;
    std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    cp = c & (0xFF >> (len + 1));
    for (std::size_t m = 1; m < len && n + m < s.size(); ++m)
      cp = (cp << 6) | (static_cast<unsigned char>(s[n + m]) & 0x3F);
    n += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u4(0xD800 + (cp >> 10));
      u4(0xDC00 + (cp & 0x3FF));
    } else {
      u4(cp);
    }
  }
  out += '"';
}

/// json.dumps' layout: compact separators, or one item a line with `indent`.
struct dump_style {
  bool sort_keys;
  int indent; ///< < 0: no newlines
};

void newline(std::string& out, const dump_style& st, int depth) {
  if (st.indent < 0)
    return;
  out += '\n';
  out.append(static_cast<std::size_t>(st.indent * depth), ' ');
}

void dump_value(std::string& out, const value& v, const dump_style& st, int depth) {
  switch (v.k) {
    case vkind::none: out += "null"; return;
    case vkind::boolean: out += v.b ? "true" : "false"; return;
    case vkind::integer: out += int_to_string(v.i); return;
    case vkind::floating:
      if (std::isnan(v.f))
        out += "NaN";
      else if (std::isinf(v.f))
        out += v.f > 0 ? "Infinity" : "-Infinity";
      else
        out += py_float_repr(v.f);
      return;
    case vkind::string: dump_string(out, v.s); return;
    default: break;
  }
  if (!special_list_type(v).empty())
    raise("TypeError", "Object of type " + special_list_type(v) + " is not JSON serializable");
  if (v.is_seq()) {
    auto list = iterate(v);
    out += '[';
    bool first = true;
    for (auto& e : list) {
      if (!first)
        out += st.indent < 0 ? ", " : ",";
      first = false;
      newline(out, st, depth + 1);
      dump_value(out, e, st, depth + 1);
    }
    if (!list.empty())
      newline(out, st, depth);
    out += ']';
    return;
  }
  if (v.is_map()) {
    std::vector<std::pair<std::string, value>> kv;
    for (auto& [k, x] : items(v))
      kv.emplace_back(json_key(k), x);
    if (st.sort_keys)
      std::stable_sort(kv.begin(), kv.end(), [](auto& a, auto& b) { return a.first < b.first; });
    out += '{';
    bool first = true;
    for (auto& [k, x] : kv) {
      if (!first)
        out += st.indent < 0 ? ", " : ",";
      first = false;
      newline(out, st, depth + 1);
      dump_string(out, k);
      out += ": ";
      dump_value(out, x, st, depth + 1);
    }
    if (!kv.empty())
      newline(out, st, depth);
    out += '}';
    return;
  }
  check_defined(v);
  raise("TypeError", "Object of type " + type_name(v) + " is not JSON serializable");
}

} // namespace

std::string py_json_dumps(const value& v, bool sort_keys, int indent) {
  std::string out;
  dump_value(out, v, dump_style{sort_keys, indent}, 0);
  return out;
}

} // namespace mistral::expr::jinja

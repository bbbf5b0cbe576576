#include "dsl/expr/yaql_value.hpp"

#include "dsl/expr/py_value.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

namespace mistral::expr::yaql {

/// Sequence storage plus the optional state some iterators carry.
struct value::seq_box {
  seq_t items;
  std::shared_ptr<const void> aux;
  std::shared_ptr<const infinite_seq> inf;
};

value value::boolean(bool b) {
  value v;
  v.kind_ = kind::boolean;
  v.i_ = b;
  return v;
}

value value::integer(std::int64_t i) {
  value v;
  v.kind_ = kind::integer;
  v.i_ = i;
  return v;
}

value value::big_integer(__int128 i) {
  if (i >= INT64_MIN && i <= INT64_MAX)
    return integer(static_cast<std::int64_t>(i));
  if (i < 0 || i > static_cast<__int128>(UINT64_MAX))
    throw std::runtime_error("integer result too large");
  value v = integer(INT64_MAX);
  v.ref_ = true;
  v.p_ = std::make_shared<const json>(static_cast<std::uint64_t>(i));
  return v;
}

__int128 value::as_big() const noexcept {
  if (const json* r = json_ref(); r && r->is_number_unsigned())
    return static_cast<__int128>(r->get<std::uint64_t>());
  return i_;
}

value value::floating(double d) {
  value v;
  v.kind_ = kind::floating;
  v.d_ = d;
  return v;
}

value value::string(std::string s) {
  value v;
  v.kind_ = kind::string;
  v.p_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

value value::sequence(kind k, seq_t items) {
  value v;
  v.kind_ = k;
  auto b = std::make_shared<seq_box>();
  b->items = std::move(items);
  v.p_ = std::move(b);
  return v;
}

value value::dict(dict_t items) {
  value v;
  v.kind_ = kind::dict;
  v.p_ = std::make_shared<const dict_t>(std::move(items));
  return v;
}

value value::regex(std::shared_ptr<const regex_obj> r) {
  value v;
  v.kind_ = kind::regex;
  v.p_ = std::move(r);
  return v;
}

value value::context(std::shared_ptr<scope> s) {
  value v;
  v.kind_ = kind::context;
  v.p_ = std::shared_ptr<const void>(std::move(s));
  return v;
}

std::shared_ptr<scope> value::as_context() const {
  return std::const_pointer_cast<scope>(std::static_pointer_cast<const scope>(p_));
}

value value::datetime(std::int64_t wall_us, std::int64_t offset_us) {
  value v;
  v.kind_ = kind::datetime;
  v.i_ = wall_us;
  v.off_ = static_cast<std::int32_t>(offset_us / 1'000'000);
  return v;
}

value value::timespan(std::int64_t us) {
  value v;
  v.kind_ = kind::timespan;
  v.i_ = us;
  return v;
}

value value::infinite(std::shared_ptr<const infinite_seq> gen) {
  value v = sequence(kind::iterator, {});
  const_cast<seq_box*>(v.box())->inf = std::move(gen);
  return v;
}

const infinite_seq* value::endless() const noexcept {
  return kind_ == kind::iterator && !ref_ ? box()->inf.get() : nullptr;
}

const std::shared_ptr<const void>& value::aux() const noexcept {
  static const std::shared_ptr<const void> none;
  return kind_ == kind::iterator && !ref_ ? box()->aux : none;
}

void value::set_aux(std::shared_ptr<const void> a) {
  if (kind_ == kind::iterator && !ref_)
    const_cast<seq_box*>(box())->aux = std::move(a);
}

value infinite_seq::at(std::size_t i) const {
  if (counting)
    return value::integer(start + step * static_cast<std::int64_t>(i));
  return pattern[i % pattern.size()];
}

namespace {

/// A shared_ptr that points at `j` without owning it (aliasing an empty owner).
std::shared_ptr<const void> borrow(const json& j) {
  return std::shared_ptr<const void>(std::shared_ptr<const void>(), &j);
}

} // namespace

value value::from_json(const json& j) {
  switch (j.type()) {
    case json::value_t::boolean: return boolean(j.get<bool>());
    case json::value_t::number_integer: return integer(j.get<std::int64_t>());
    case json::value_t::number_unsigned: {
      auto u = j.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(INT64_MAX))
        return integer(static_cast<std::int64_t>(u));
      // Beyond int64: still a Python int, passed through exactly; arithmetic
      // on it overflows cleanly into an error.
      value v = integer(INT64_MAX);
      v.ref_ = true;
      v.p_ = borrow(j);
      return v;
    }
    case json::value_t::number_float: return floating(j.get<double>());
    case json::value_t::string:
    case json::value_t::array:
    case json::value_t::object: {
      value v;
      v.kind_ = j.is_string() ? kind::string : j.is_array() ? kind::tuple : kind::dict;
      v.ref_ = true;
      v.p_ = borrow(j);
      return v;
    }
    default: return value();
  }
}

value value::from_json_owned(const json& j) {
  if (j.is_string())
    return string(j.get<std::string>());
  if (j.is_array()) {
    seq_t items;
    items.reserve(j.size());
    for (const auto& item : j)
      items.push_back(from_json_owned(item));
    return sequence(kind::tuple, std::move(items));
  }
  if (j.is_object()) {
    dict_t items;
    items.reserve(j.size());
    for (auto it = j.begin(); it != j.end(); ++it)
      items.emplace_back(string(it.key()), from_json_owned(it.value()));
    return dict(std::move(items));
  }
  return from_json(j);
}

bool value::is_iterable() const noexcept {
  return kind_ == kind::tuple || kind_ == kind::list || kind_ == kind::iterator || kind_ == kind::set;
}

std::string_view value::as_str() const noexcept {
  if (kind_ != kind::string)
    return {};
  if (const json* r = json_ref())
    return r->get_ref<const std::string&>();
  return *str_ptr();
}

std::size_t value::size() const noexcept {
  if (const json* r = json_ref())
    return r->is_string() ? r->get_ref<const std::string&>().size() : r->is_number() ? 0 : r->size();
  switch (kind_) {
    case kind::string: return str_ptr()->size();
    case kind::dict: return dict_ptr()->size();
    case kind::tuple:
    case kind::list:
    case kind::iterator:
    case kind::set: return box()->items.size();
    default: return 0;
  }
}

value value::at(std::size_t i) const {
  if (const json* r = json_ref())
    return from_json((*r)[i]);
  return box()->items[i];
}

void value::for_each(const std::function<bool(const value&)>& fn) const {
  if (const infinite_seq* inf = endless()) {
    // Consumers that stop early work; the rest hit the iteration limit.
    for (std::size_t i = 0; i < 2'000'000; ++i)
      if (!fn(inf->at(i)))
        return;
    throw std::runtime_error("Collection length exceeds the iteration limit");
  }
  if (const json* r = json_ref()) {
    if (r->is_array()) {
      for (const auto& item : *r)
        if (!fn(from_json(item)))
          return;
    } else if (r->is_object()) {
      for (auto it = r->begin(); it != r->end(); ++it)
        if (!fn(string(it.key())))
          return;
    }
    return;
  }
  if (kind_ == kind::dict) {
    for (const auto& kv : *dict_ptr())
      if (!fn(kv.first))
        return;
    return;
  }
  if (is_iterable())
    for (const auto& item : box()->items)
      if (!fn(item))
        return;
}

seq_t value::items() const {
  if (endless())
    throw std::runtime_error("Collection length exceeds the iteration limit (endless iterator)");
  if (is_iterable() && !ref_)
    return box()->items;
  seq_t out;
  out.reserve(size());
  for_each([&](const value& v) {
    out.push_back(v);
    return true;
  });
  return out;
}

std::optional<value> value::get(std::string_view key) const {
  if (const json* r = json_ref()) {
    auto it = r->find(key);
    if (it == r->end())
      return std::nullopt;
    return from_json(*it);
  }
  for (const auto& kv : *dict_ptr())
    if (kv.first.is(kind::string) && kv.first.as_str() == key)
      return kv.second;
  return std::nullopt;
}

std::optional<value> value::get(const value& key) const {
  if (key.is(kind::string))
    return get(key.as_str());
  if (ref_)
    return std::nullopt; // JSON objects only have string keys
  for (const auto& kv : *dict_ptr())
    if (equal(kv.first, key))
      return kv.second;
  return std::nullopt;
}

dict_t value::pairs() const {
  const json* r = json_ref();
  if (!r)
    return *dict_ptr();
  dict_t out;
  out.reserve(r->size());
  for (auto it = r->begin(); it != r->end(); ++it)
    out.emplace_back(string(it.key()), from_json(it.value()));
  return out;
}

namespace {

bool numeric(const value& v) {
  return v.is(kind::integer) || v.is(kind::floating) || v.is(kind::boolean);
}

bool seq_equal(const value& a, const value& b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!equal(a.at(i), b.at(i)))
      return false;
  return true;
}

bool set_contains(const value& s, const value& x) {
  bool found = false;
  s.for_each([&](const value& item) {
    found = equal(item, x);
    return !found;
  });
  return found;
}

bool dict_equal(const value& a, const value& b) {
  if (a.size() != b.size())
    return false;
  for (const auto& kv : a.pairs()) {
    auto other = b.get(kv.first);
    if (!other || !equal(kv.second, *other))
      return false;
  }
  return true;
}

} // namespace

bool equal(const value& a, const value& b) {
  if (numeric(a) && numeric(b)) {
    if (a.is(kind::floating) || b.is(kind::floating))
      return a.as_float() == b.as_float();
    return a.as_big() == b.as_big();
  }
  if (a.type() != b.type())
    return false;
  switch (a.type()) {
    case kind::null: return true;
    case kind::string: return a.as_str() == b.as_str();
    case kind::tuple:
    case kind::list: return seq_equal(a, b);
    case kind::set: {
      if (a.size() != b.size())
        return false;
      bool all = true;
      a.for_each([&](const value& x) {
        all = set_contains(b, x);
        return all;
      });
      return all;
    }
    case kind::dict: return dict_equal(a, b);
    case kind::regex: return a.as_regex().pattern == b.as_regex().pattern;
    case kind::datetime: return a.micros() - a.offset_micros() == b.micros() - b.offset_micros();
    case kind::timespan: return a.micros() == b.micros();
    default: return false; // iterators and contexts compare by identity
  }
}

std::size_t hash(const value& v) {
  switch (v.type()) {
    case kind::null: return 0x9e3779b9u;
    case kind::boolean:
    case kind::integer: return std::hash<std::int64_t>{}(v.as_int());
    case kind::floating: {
      double d = v.as_float();
      if (std::floor(d) == d && std::fabs(d) < 9e18)
        return std::hash<std::int64_t>{}(static_cast<std::int64_t>(d));
      return std::hash<double>{}(d);
    }
    case kind::string: return std::hash<std::string_view>{}(v.as_str());
    case kind::datetime: return std::hash<std::int64_t>{}(v.micros() - v.offset_micros());
    case kind::timespan: return std::hash<std::int64_t>{}(v.micros());
    case kind::tuple: {
      std::size_t h = 0x345678;
      v.for_each([&](const value& x) {
        h = h * 1000003u ^ hash(x);
        return true;
      });
      return h;
    }
    case kind::set: {
      std::size_t h = 0x1234;
      v.for_each([&](const value& x) {
        h ^= hash(x) * 0x9e3779b97f4a7c15ull;
        return true;
      });
      return h;
    }
    case kind::dict: {
      std::size_t h = 0x5678;
      for (const auto& kv : v.pairs())
        h ^= (hash(kv.first) * 31u + hash(kv.second)) * 0x9e3779b97f4a7c15ull;
      return h;
    }
    default: return 0;
  }
}

bool hashable(const value& v) {
  switch (v.type()) {
    case kind::list: return false;
    case kind::tuple: {
      bool ok = true;
      v.for_each([&](const value& x) {
        ok = hashable(x);
        return ok;
      });
      return ok;
    }
    default: return true;
  }
}

bool truthy(const value& v) {
  switch (v.type()) {
    case kind::null: return false;
    case kind::boolean: return v.as_bool();
    case kind::integer: return v.as_int() != 0;
    case kind::floating: return v.as_float() != 0.0;
    case kind::string:
    case kind::tuple:
    case kind::list:
    case kind::set:
    case kind::dict: return v.size() != 0;
    default: return true;
  }
}

namespace {

void repr_into(std::string& out, const value& v);

} // namespace

namespace {

void repr_items(std::string& out, const value& v, const char* open, const char* close) {
  out += open;
  bool first = true;
  v.for_each([&](const value& x) {
    if (!first)
      out += ", ";
    first = false;
    repr_into(out, x);
    return true;
  });
  if (v.is(kind::tuple) && v.size() == 1)
    out += ',';
  out += close;
}

void repr_into(std::string& out, const value& v) {
  switch (v.type()) {
    case kind::null: out += "None"; return;
    case kind::boolean: out += v.as_bool() ? "True" : "False"; return;
    case kind::integer:
      if (const json* r = v.json_ref())
        out += r->dump();
      else
        out += std::to_string(v.as_int());
      return;
    case kind::floating: out += py_float_repr(v.as_float()); return;
    case kind::string: out += mistral::expr::py_repr(json(std::string(v.as_str()))); return;
    case kind::tuple: repr_items(out, v, "(", ")"); return;
    case kind::list:
    case kind::iterator: repr_items(out, v, "[", "]"); return;
    case kind::set:
      if (v.size() == 0) {
        out += "frozenset()";
        return;
      }
      out += "frozenset(";
      repr_items(out, v, "{", "}");
      out += ')';
      return;
    case kind::dict: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.pairs()) {
        if (!first)
          out += ", ";
        first = false;
        repr_into(out, kv.first);
        out += ": ";
        repr_into(out, kv.second);
      }
      out += '}';
      return;
    }
    case kind::regex: out += "re.compile(" + mistral::expr::py_repr(json(v.as_regex().pattern)) + ")"; return;
    case kind::context: out += "<yaql.language.contexts.Context object>"; return;
    case kind::datetime:
    case kind::timespan: out += datetime_str(v); return;
  }
}

} // namespace

std::string py_repr(const value& v) {
  std::string out;
  repr_into(out, v);
  return out;
}

std::string py_str(const value& v) {
  if (v.is(kind::string))
    return std::string(v.as_str());
  return py_repr(v);
}

const char* type_name(const value& v) {
  switch (v.type()) {
    case kind::null: return "NoneType";
    case kind::boolean: return "bool";
    case kind::integer: return "int";
    case kind::floating: return "float";
    case kind::string: return "str";
    case kind::tuple: return "tuple";
    case kind::list: return "list";
    case kind::iterator: return "generator";
    case kind::set: return "frozenset";
    case kind::dict: return "dict";
    case kind::regex: return "re.Pattern";
    case kind::context: return "Context";
    case kind::datetime: return "datetime.datetime";
    case kind::timespan: return "datetime.timedelta";
  }
  return "object";
}

namespace {

std::string key_text(const value& k) {
  switch (k.type()) {
    case kind::string: return std::string(k.as_str());
    case kind::null: return "null";
    case kind::boolean: return k.as_bool() ? "true" : "false";
    case kind::floating: return py_float_repr(k.as_float());
    default: return py_str(k);
  }
}

} // namespace

namespace {

/// Python's set() and dict keys refuse what convert_output_data turns into
/// lists or dicts: a set of tuples or a tuple key cannot be output.
void check_output_hashable(const value& v) {
  if (v.is_iterable() || v.is(kind::dict))
    throw std::runtime_error(std::string("unhashable type: '") +
                             (v.is(kind::dict)  ? "dict"
                              : v.is(kind::set) ? "set"
                                                : "list") +
                             "'");
}

} // namespace

json to_json(const value& v) {
  if (const json* r = v.json_ref())
    return *r;
  if (v.endless())
    throw std::runtime_error("Collection length exceeds the iteration limit (endless iterator)");
  switch (v.type()) {
    case kind::null: return nullptr;
    case kind::boolean: return v.as_bool();
    case kind::integer: return v.as_int();
    case kind::floating: return v.as_float();
    case kind::string: return std::string(v.as_str());
    case kind::tuple:
    case kind::list:
    case kind::iterator:
    case kind::set: {
      json arr = json::array();
      bool is_set = v.is(kind::set);
      v.for_each([&](const value& x) {
        if (is_set)
          check_output_hashable(x);
        arr.push_back(to_json(x));
        return true;
      });
      return arr;
    }
    case kind::dict: {
      json obj = json::object();
      for (const auto& kv : v.pairs()) {
        check_output_hashable(kv.first);
        obj[key_text(kv.first)] = to_json(kv.second);
      }
      return obj;
    }
    case kind::regex: return py_repr(v);
    case kind::context: return nullptr;
    case kind::datetime: return datetime_iso(v);
    case kind::timespan: throw std::runtime_error("Object of type timedelta is not JSON serializable");
  }
  return nullptr;
}

namespace {

/// CPython's hash() of an int.
std::uint64_t py_int_hash(const value& v) {
  constexpr __int128 modulus = (static_cast<__int128>(1) << 61) - 1;
  __int128 x = v.as_big();
  bool neg = x < 0;
  __int128 h = (neg ? -x : x) % modulus;
  auto r = static_cast<std::int64_t>(neg ? -h : h);
  if (r == -1)
    r = -2;
  return static_cast<std::uint64_t>(r);
}

/// Iteration order of a CPython set built by adding `items` one by one
/// (setobject.c: linear probing by 9, perturbation, resize at 60% fill).
/// Only used for sets of ints, whose hashes (and so order) are deterministic.
seq_t cpython_set_order(const seq_t& items) {
  constexpr std::size_t linear_probes = 9;
  std::vector<long> table(8, -1);
  std::vector<std::uint64_t> hashes(items.size());
  for (std::size_t k = 0; k < items.size(); ++k)
    hashes[k] = py_int_hash(items[k]);
  auto insert_clean = [&](std::vector<long>& t, long idx) {
    std::size_t mask = t.size() - 1;
    std::uint64_t perturb = hashes[static_cast<std::size_t>(idx)];
    std::size_t i = perturb & mask;
    for (;;) {
      if (t[i] < 0) {
        t[i] = idx;
        return;
      }
      if (i + linear_probes <= mask) {
        for (std::size_t j = 1; j <= linear_probes; ++j)
          if (t[i + j] < 0) {
            t[i + j] = idx;
            return;
          }
      }
      perturb >>= 5;
      i = (i * 5 + 1 + perturb) & mask;
    }
  };
  std::size_t used = 0;
  for (std::size_t k = 0; k < items.size(); ++k) {
    insert_clean(table, static_cast<long>(k));
    ++used;
    std::size_t mask = table.size() - 1;
    if (used * 5 >= mask * 3) {
      std::size_t minused = used > 50000 ? used * 2 : used * 4;
      std::size_t newsize = 8;
      while (newsize <= minused)
        newsize <<= 1;
      std::vector<long> bigger(newsize, -1);
      for (long idx : table)
        if (idx >= 0)
          insert_clean(bigger, idx);
      table.swap(bigger);
    }
  }
  seq_t out;
  out.reserve(items.size());
  for (long idx : table)
    if (idx >= 0)
      out.push_back(items[static_cast<std::size_t>(idx)]);
  return out;
}

} // namespace

value make_set(const seq_t& items) {
  seq_t out;
  out.reserve(items.size());
  std::unordered_multimap<std::size_t, std::size_t> index;
  for (const auto& item : items) {
    std::size_t h = hash(item);
    bool dup = false;
    auto range = index.equal_range(h);
    for (auto it = range.first; it != range.second && !dup; ++it)
      dup = equal(out[it->second], item);
    if (!dup) {
      index.emplace(h, out.size());
      out.push_back(item);
    }
  }
  bool all_ints = !out.empty() && std::all_of(out.begin(), out.end(), [](const value& x) {
    return x.is(kind::integer) || x.is(kind::boolean);
  });
  if (all_ints && out.size() < 100000)
    out = cpython_set_order(out);
  return value::sequence(kind::set, std::move(out));
}

value make_dict(const dict_t& pairs) {
  dict_t out;
  out.reserve(pairs.size());
  std::unordered_multimap<std::size_t, std::size_t> index;
  for (const auto& kv : pairs) {
    std::size_t h = hash(kv.first);
    bool replaced = false;
    auto range = index.equal_range(h);
    for (auto it = range.first; it != range.second && !replaced; ++it) {
      if (equal(out[it->second].first, kv.first)) {
        out[it->second].second = kv.second;
        replaced = true;
      }
    }
    if (!replaced) {
      index.emplace(h, out.size());
      out.push_back(kv);
    }
  }
  return value::dict(std::move(out));
}

} // namespace mistral::expr::yaql

namespace mistral::expr::yaql {

// Howard Hinnant's civil calendar algorithms.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

namespace {

constexpr std::int64_t us_per_day = 86'400'000'000LL;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0)))
    --q;
  return q;
}

std::string clock_text(std::int64_t us_of_day, bool force_micros, char sep_hours_pad) {
  std::int64_t secs = us_of_day / 1'000'000, us = us_of_day % 1'000'000;
  char buf[64];
  if (sep_hours_pad)
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string out = buf;
  if (us || force_micros) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
    out += buf;
  }
  return out;
}

std::string date_text(std::int64_t wall_us, char sep, bool force_micros) {
  std::int64_t days = floor_div(wall_us, us_per_day);
  std::int64_t rest = wall_us - days * us_per_day;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u%c", static_cast<long long>(y), m, d, sep);
  return buf + clock_text(rest, force_micros, 1);
}

} // namespace

std::string datetime_iso(const value& v) {
  return date_text(v.micros(), 'T', true);
}

std::string datetime_str(const value& v) {
  if (v.is(kind::timespan)) {
    std::int64_t us = v.micros();
    std::int64_t days = floor_div(us, us_per_day);
    std::int64_t rest = us - days * us_per_day;
    std::string out;
    if (days != 0)
      out = std::to_string(days) + (days == 1 || days == -1 ? " day, " : " days, ");
    return out + clock_text(rest, false, 0);
  }
  std::string out = date_text(v.micros(), ' ', false);
  std::int64_t off = v.offset_micros();
  char buf[16];
  std::int64_t a = off < 0 ? -off : off;
  std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", off < 0 ? '-' : '+',
                static_cast<long long>(a / 3'600'000'000LL), static_cast<long long>(a / 60'000'000 % 60));
  return out + buf;
}

} // namespace mistral::expr::yaql

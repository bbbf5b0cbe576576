#pragma once

// The value YAQL computes with: Python's types as yaql 2.0 sees them
// (int, float, str, tuple, list, iterator, frozenset, FrozenDict, compiled
// regex, context). Input JSON is borrowed, not copied: arrays read as tuples
// and objects as FrozenDicts, the way yaql's convert_input_data presents them.

#include "common/json.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mistral::expr::yaql {

class value;
struct scope;

/// Python type of a YAQL value.
enum class kind : std::uint8_t {
  null,
  boolean,
  integer,
  floating,
  string,
  tuple,    ///< input arrays, [..] literals, toList()
  list,     ///< Python lists made by a few functions (insert, toDict values)
  iterator, ///< results of select/where/...: already computed, but typed as Python generators
  set,      ///< frozenset
  dict,     ///< FrozenDict / dict
  regex,    ///< re.compile(...)
  context,  ///< a yaql context (let(), with(), unpack() results)
  datetime, ///< datetime.datetime: wall-clock microseconds since 1970 plus a UTC offset
  timespan, ///< datetime.timedelta in microseconds
};

/// Owned sequence storage (tuple, list, iterator, set).
using seq_t = std::vector<value>;
/// Owned dict storage: insertion-ordered pairs.
using dict_t = std::vector<std::pair<value, value>>;

/// A compiled YAQL regex (pattern text plus flags; compiled lazily by the library).
struct regex_obj {
  std::string pattern;
  bool ignore_case = false, multi_line = false, dot_all = false;
  std::shared_ptr<const void> compiled; ///< std::regex, type-erased to keep this header light
};

/// An endless iterator (sequence(), repeat() without a count, cycle()):
/// only prefix consumers (take, limit, first, takeWhile) may read it.
struct infinite_seq {
  seq_t pattern;         ///< items repeated forever (repeat, cycle)
  bool counting = false; ///< sequence(start, step) instead of a pattern
  std::int64_t start = 0, step = 1;
  /// Item i of the endless sequence.
  value at(std::size_t i) const;
};

/// One YAQL value. Cheap to copy: scalars are inline, containers are shared
/// and immutable, input JSON is referenced.
class value {
public:
  value() = default;
  value(std::nullptr_t) {}
  static value boolean(bool b);
  static value integer(std::int64_t i);
  /// A Python int of any size up to 2**64 - 1 (beyond int64 it is kept as an
  /// exact JSON number); larger magnitudes raise an error.
  static value big_integer(__int128 i);
  /// The exact integer (also for ints beyond int64).
  __int128 as_big() const noexcept;
  static value floating(double d);
  static value string(std::string s);
  /// A sequence of the given Python kind (tuple, list, iterator or set; sets must be deduplicated).
  static value sequence(kind k, seq_t items);
  static value dict(dict_t items);
  static value regex(std::shared_ptr<const regex_obj> r);
  static value context(std::shared_ptr<scope> s);
  /// Borrows a JSON node (strings, arrays, objects) or converts a scalar.
  static value from_json(const json& j);
  /// Copies a JSON value into owned storage (for data that does not outlive the call).
  static value from_json_owned(const json& j);

  kind type() const noexcept { return kind_; }
  bool is(kind k) const noexcept { return kind_ == k; }
  bool is_null() const noexcept { return kind_ == kind::null; }
  /// int or float, not bool (yaql's Number()).
  bool is_number() const noexcept { return kind_ == kind::integer || kind_ == kind::floating; }
  /// tuple, list, iterator or set: what yaql's Iterable() accepts (strings and dicts excluded).
  bool is_iterable() const noexcept;
  /// tuple or list: Python Sequence (not str).
  bool is_sequence() const noexcept { return kind_ == kind::tuple || kind_ == kind::list; }

  bool as_bool() const noexcept { return i_ != 0; }
  std::int64_t as_int() const noexcept { return i_; }
  double as_float() const noexcept { return kind_ == kind::floating ? d_ : static_cast<double>(i_); }
  std::string_view as_str() const noexcept;

  /// Number of items of a sequence, set or dict; characters (bytes) of a string.
  std::size_t size() const noexcept;
  /// Item i of a sequence or set.
  value at(std::size_t i) const;
  /// Visits the items of an iterable (or the keys of a dict) until fn returns false.
  void for_each(const std::function<bool(const value&)>& fn) const;
  /// Materialises the items of an iterable.
  seq_t items() const;

  /// Dict lookup by Python equality; nullopt when absent.
  std::optional<value> get(const value& key) const;
  /// Dict lookup by string key (fast path for `$.a`).
  std::optional<value> get(std::string_view key) const;
  /// Dict pairs in insertion order.
  dict_t pairs() const;

  const regex_obj& as_regex() const { return *static_cast<const regex_obj*>(p_.get()); }
  std::shared_ptr<scope> as_context() const;
  /// The borrowed JSON node, if this value is a view of input data.
  const json* json_ref() const noexcept { return ref_ ? static_cast<const json*>(p_.get()) : nullptr; }

  /// Library-private state riding along with an iterator (orderBy's sort keys).
  const std::shared_ptr<const void>& aux() const noexcept;
  /// Attaches aux state; only on a value just built by sequence().
  void set_aux(std::shared_ptr<const void> a);

  /// A datetime: wall-clock time in microseconds since 1970-01-01 and its UTC offset.
  static value datetime(std::int64_t wall_us, std::int64_t offset_us);
  /// A timedelta in microseconds.
  static value timespan(std::int64_t us);
  /// The wall-clock microseconds of a datetime, or the length of a timespan.
  std::int64_t micros() const noexcept { return i_; }
  /// The UTC offset of a datetime, in microseconds.
  std::int64_t offset_micros() const noexcept { return static_cast<std::int64_t>(off_) * 1'000'000; }
  /// An endless iterator.
  static value infinite(std::shared_ptr<const infinite_seq> gen);
  /// The endless generator behind this iterator, or null.
  const infinite_seq* endless() const noexcept;

private:
  struct seq_box;
  const seq_box* box() const noexcept { return static_cast<const seq_box*>(p_.get()); }
  const std::string* str_ptr() const noexcept { return static_cast<const std::string*>(p_.get()); }
  const dict_t* dict_ptr() const noexcept { return static_cast<const dict_t*>(p_.get()); }

  // 32 bytes: values are copied a lot and collections hold millions of them.
  kind kind_ = kind::null;
  bool ref_ = false;     ///< p_ aliases a borrowed JSON node (no ownership)
  std::int32_t off_ = 0; ///< datetime UTC offset in seconds
  union {
    std::int64_t i_ = 0; ///< bool, int, datetime/timespan microseconds
    double d_;
  };
  std::shared_ptr<const void> p_; ///< string, seq_box, dict_t, regex_obj, scope or JSON node
};

/// Python's ==, including tuple != list and 1 == 1.0 == True.
bool equal(const value& a, const value& b);
/// A hash consistent with equal() (for sets, dict keys, distinct()).
std::size_t hash(const value& v);
/// Whether Python could hash the value (lists, sets of lists... cannot).
bool hashable(const value& v);
/// Python's truthiness.
bool truthy(const value& v);
/// Python's str() of the value as yaql holds it (tuples print as (1, 2)).
std::string py_str(const value& v);
/// Python's repr().
std::string py_repr(const value& v);
/// The Python type name used in error messages ("int", "str", "tuple", ...).
const char* type_name(const value& v);

/// yaql's convert_output_data + Mistral's to_json_str: tuples and iterators
/// become arrays, sets become arrays, dict keys become strings.
json to_json(const value& v);

/// Python's str() of a datetime ("2015-08-29 00:00:00+00:00") or timedelta ("1 day, 0:00:01").
std::string datetime_str(const value& v);
/// oslo's PERFECT_TIME_FORMAT of a datetime ("2015-08-29T00:00:00.000000"), timezone dropped.
std::string datetime_iso(const value& v);
/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d);
/// (year, month, day) to days since 1970-01-01.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);

/// Builds a set from items, keeping the first occurrence of equal values.
value make_set(const seq_t& items);
/// Builds a dict from pairs; a later equal key replaces the value in place.
value make_dict(const dict_t& pairs);

} // namespace mistral::expr::yaql

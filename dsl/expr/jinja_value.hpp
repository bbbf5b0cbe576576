#pragma once

// The values a Jinja template computes with, and the Python semantics Jinja
// inherits from its host language: truthiness, ==, <, str(), repr(),
// iteration, and the conversion back to JSON (Mistral's to_json_str).
//
// Arrays and objects of the data context are not copied: a value can point
// into the context (`jlist`, `jdict`) and is converted item by item when used.

#include "common/json.hpp"
#include "dsl/expr/data_view.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mistral::expr::jinja {

/// Python's int, wide enough for every JSON integer and their sums.
using int_t = __int128;

/// A Python exception raised while evaluating: `cls` is the Python class name
/// (UndefinedError, TypeError, ...), `msg` its str().
struct py_error {
  std::string cls;
  std::string msg;
};

/// Throws a py_error; the entry points turn it into a mistral::error.
[[noreturn]] void raise(std::string cls, std::string msg);

enum class vkind : std::uint8_t {
  undefined, ///< StrictUndefined: any use raises (message in `s`)
  none,
  boolean,
  integer,
  floating,
  string,
  list,     ///< native Python list
  tuple,    ///< native Python tuple
  dict,     ///< native Python dict (insertion ordered)
  jlist,    ///< a JSON array inside the data context or a function result
  jdict,    ///< a JSON object inside the data context or a function result
  view,     ///< a layered data_view used as `_` (looked up without merging)
  callable, ///< a function, bound method, macro or filter-like global
};

struct value;
class evaluator;

/// Positional and keyword arguments of one call.
struct call_args {
  std::vector<value> pos;
  std::vector<std::pair<std::string, value>> kw;
};

/// A callable's implementation.
using native_fn = std::function<value(evaluator&, call_args&)>;

/// A named callable (its name shows in error messages).
struct callable_t {
  std::string name;
  native_fn fn;
  std::string py_type = "function"; ///< Python's type name, shown in TypeErrors
};

/// A Python dict: keys may be any hashable value, compared with ==.
struct dict_t {
  std::vector<std::pair<value, value>> items;
  /// The value under `key`, or nullptr.
  const value* find(const value& key) const;
  /// Sets `key` (replacing an equal key in place, as Python does).
  void set(value key, value v);
};

/// One Jinja value. Small scalars live inline; containers are shared.
struct value {
  vkind k = vkind::none;
  bool b = false; ///< boolean; undefined: raised as SecurityError; dict: a Namespace
  union {
    int_t i = 0;         ///< integer; 1 marks a plain (lenient) undefined
    double f;            ///< floating
    const json* j;       ///< jlist / jdict node
    const data_view* dv; ///< view
  };
  /// The shared payload: std::vector<value> of a list/tuple, dict_t of a
  /// dict, callable_t of a callable, or the JSON owning a jlist/jdict node.
  std::shared_ptr<void> p;
  /// String text; an undefined's message; a list's repr prefix (dict_keys).
  std::string s;

  std::vector<value>* seq() const { return static_cast<std::vector<value>*>(p.get()); }
  dict_t* map() const { return static_cast<dict_t*>(p.get()); }
  callable_t* fn() const { return static_cast<callable_t*>(p.get()); }

  static value none() { return {}; }
  static value boolean(bool v);
  static value integer(int_t v);
  static value floating(double v);
  static value string(std::string v);
  static value list(std::vector<value> v);
  static value tuple(std::vector<value> v);
  static value dict(dict_t d);
  static value undefined(std::string message, bool security = false);
  /// Jinja's plain Undefined (an if-expression without else): prints as ''.
  static value lenient_undefined(std::string message);
  /// `py_type` is the name Python gives the object's type ("function",
  /// "builtin_function_or_method" for a bound builtin, "method", "type").
  static value callable(std::string name, native_fn f, std::string py_type = "function");
  /// A value for a node of JSON that outlives it (the data context).
  static value ref(const json& node);
  /// A value owning its JSON (a function result).
  static value owned(json node);
  /// The layered data context as `_`.
  static value of_view(const data_view& v);

  bool is_undefined() const { return k == vkind::undefined; }
  bool is_lenient() const { return k == vkind::undefined && i == 1; }
  bool is_str() const { return k == vkind::string; }
  bool is_int() const { return k == vkind::integer; }
  bool is_num() const { return k == vkind::integer || k == vkind::floating || k == vkind::boolean; }
  bool is_seq() const { return k == vkind::list || k == vkind::tuple || k == vkind::jlist; }
  bool is_map() const { return k == vkind::dict || k == vkind::jdict || k == vkind::view; }
};

/// A one-shot Python iterator (a filter's generator, reversed(list)) holding
/// its items: iterable, but no len(), always true, not JSON serialisable.
value make_iterator(std::vector<value> items, const char* type_name = "generator");
/// True for a value made by make_iterator.
inline bool is_iterator(const value& v) {
  return v.k == vkind::list && !v.s.empty() && v.s[0] == '#';
}

/// The Python type of a list that is really a view, range or iterator
/// ("dict_keys", "range", "generator"), or "" for a plain list.
std::string special_list_type(const value& v);

/// Raises the undefined's error (UndefinedError or SecurityError).
[[noreturn]] void fail_undefined(const value& v);
/// Raises if `v` is undefined, as StrictUndefined does on any use.
inline void check_defined(const value& v) {
  if (v.is_undefined())
    fail_undefined(v);
}

/// Python's type name: 'int', 'str', 'dict', 'NoneType', ...
std::string type_name(const value& v);
/// Jinja's object_type_repr: "dict object", "None", ...
std::string object_type_repr(const value& v);

bool truthy(const value& v);
bool equal(const value& a, const value& b);
/// Python's < (TypeError for unorderable types).
bool less(const value& a, const value& b);
std::string repr(const value& v);
std::string str(const value& v);
/// A text key with Python's hash equality (1 == 1.0 == True) for sets.
std::string hash_key(const value& v);

/// Number of items (len()); TypeError when the value has no len().
std::size_t length(const value& v);
/// Python's iteration: strings by character, dicts by key.
std::vector<value> iterate(const value& v);
/// The (key, value) pairs of a mapping; TypeError otherwise.
std::vector<std::pair<value, value>> items(const value& v);
/// A mapping lookup (nullopt when the key is absent).
std::optional<value> map_get(const value& m, const value& key);

/// Converts a JSON node to a value (scalars copied, containers referenced).
value from_json_ref(const json& node, const std::shared_ptr<void>& owner);
/// Mistral's to_json_str normalisation: tuples become arrays, non-string
/// keys become strings; raises for undefined and unserialisable values.
json to_json(const value& v);

/// Python json.dumps(v, sort_keys=..., indent=...) with ensure_ascii;
/// indent < 0 means no indent (", " and ": " separators).
std::string py_json_dumps(const value& v, bool sort_keys, int indent = -1);

/// Number of Unicode code points of UTF-8 text.
std::size_t u8_length(const std::string& s);
/// Splits UTF-8 text into code points.
std::vector<std::string> u8_chars(const std::string& s);

/// Python's str.upper() / str.lower() for ASCII, Latin-1, Latin Extended-A,
/// Greek and Cyrillic text (other characters are kept).
std::string u8_upper(const std::string& s);
std::string u8_lower(const std::string& s);

/// The int value of a bool/int, or nullopt.
std::optional<int_t> as_int(const value& v);
/// The numeric value of a bool/int/float, or nullopt.
std::optional<double> as_double(const value& v);
/// Decimal text of a Python int.
std::string int_to_string(int_t v);

} // namespace mistral::expr::jinja

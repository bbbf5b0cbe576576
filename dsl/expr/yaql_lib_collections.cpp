// yaql's collections.py and queries.py.

#include "dsl/expr/yaql_lib.hpp"

#include <algorithm>
#include <deque>
#include <unordered_set>

namespace mistral::expr::yaql::lib {

namespace {

/// Flattens iterator arguments the way list() and set() do.
void flatten_iterators(const value& v, seq_t& out) {
  if (v.is(kind::iterator)) {
    v.for_each([&](const value& x) {
      flatten_iterators(x, out);
      return true;
    });
  } else {
    out.push_back(v);
  }
}

// ---- collections.py -------------------------------------------------------

value fn_list(call_args& c) {
  seq_t out;
  for (std::size_t i = 0; i < c.size(); ++i)
    flatten_iterators(c.get(i), out);
  return make_tuple(std::move(out));
}

value fn_build_list(call_args& c) {
  seq_t out;
  for (std::size_t i = 0; i < c.size(); ++i)
    out.push_back(c.get(i));
  if (!c.mappings().empty())
    throw no_match{};
  c.ev.charge(out.size() * sizeof(value));
  return make_tuple(std::move(out));
}

value fn_to_list(call_args& c) {
  arity(c, 1, 1);
  value v = iterable_arg(c, 0);
  if (v.is(kind::tuple))
    return v;
  return make_tuple(v.items());
}

void flatten_into(const value& v, seq_t& out) {
  v.for_each([&](const value& x) {
    if (x.is_iterable())
      flatten_into(x, out);
    else
      out.push_back(x);
    return true;
  });
}

value fn_flatten(call_args& c) {
  arity(c, 1, 1);
  seq_t out;
  flatten_into(iterable_arg(c, 0), out);
  return make_iterator(c.ev, std::move(out));
}

value fn_dict(call_args& c) {
  if (c.size() == 1 && c.mappings().empty()) {
    value items = iterable_arg(c, 0);
    dict_t pairs;
    items.for_each([&](const value& p) {
      if (!p.is_iterable() || p.size() < 2)
        fail("dict() needs pairs");
      seq_t kv = p.items();
      pairs.emplace_back(kv[0], kv[1]);
      return true;
    });
    return make_dict(pairs);
  }
  if (c.size() != 0)
    throw no_match{};
  dict_t pairs;
  for (const node* m : c.mappings()) {
    value k = c.ev.eval(*m->args[0], c.sc);
    if (!hashable(k))
      fail("unhashable type: '" + std::string(type_name(k)) + "'");
    pairs.emplace_back(k, c.ev.eval(*m->args[1], c.sc));
  }
  c.ev.charge(pairs.size() * 2 * sizeof(value));
  return make_dict(pairs);
}

value fn_to_dict(call_args& c) {
  arity(c, 2, 3);
  value coll = iterable_arg(c, 0);
  dict_t pairs;
  coll.for_each([&](const value& x) {
    value k = c.call(1, {x});
    value v = c.size() > 2 ? c.call(2, {x}) : x;
    pairs.emplace_back(k, v);
    return true;
  });
  return make_dict(pairs);
}

value fn_indexer(call_args& c) {
  value obj = c.get(0);
  if (obj.is(kind::dict)) {
    arity(c, 2, 3);
    value key = c.get(1);
    auto v = obj.get(key);
    if (v)
      return *v;
    if (c.size() == 3)
      return c.get(2);
    if (c.named("default"))
      return c.named_value("default");
    fail(py_repr(key));
  }
  if (obj.is_sequence()) {
    arity(c, 2, 2);
    value idx = c.get(1);
    if (!idx.is(kind::integer))
      throw no_match{};
    std::int64_t i = idx.as_int();
    auto n = static_cast<std::int64_t>(obj.size());
    if (i < 0)
      i += n;
    if (i < 0 || i >= n)
      fail("tuple index out of range");
    return obj.at(static_cast<std::size_t>(i));
  }
  throw no_match{};
}

value fn_get(call_args& c) {
  arity(c, 2, 3);
  value d = dict_arg(c, 0);
  auto v = d.get(c.get(1));
  if (v)
    return *v;
  return c.size() == 3 ? c.get(2) : value();
}

value fn_dict_set(call_args& c) {
  value d = dict_arg(c, 0);
  dict_t pairs = d.pairs();
  if (c.size() == 3) {
    pairs.emplace_back(c.get(1), c.get(2));
  } else if (c.size() == 2 && c.get(1).is(kind::dict)) {
    dict_t more = c.get(1).pairs();
    pairs.insert(pairs.end(), more.begin(), more.end());
  } else if (c.size() == 1) {
    for (const node* m : c.mappings())
      pairs.emplace_back(c.ev.eval(*m->args[0], c.sc), c.ev.eval(*m->args[1], c.sc));
  } else {
    throw no_match{};
  }
  return make_dict(pairs);
}

value fn_keys(call_args& c) {
  arity(c, 1, 1);
  value d = dict_arg(c, 0);
  seq_t keys;
  for (const auto& kv : d.pairs())
    keys.push_back(kv.first);
  // dict.keys() is a view in insertion order; it is set-like (a set once output).
  return value::sequence(kind::set, std::move(keys));
}

value fn_values(call_args& c) {
  arity(c, 1, 1);
  value d = dict_arg(c, 0);
  seq_t vals;
  for (const auto& kv : d.pairs())
    vals.push_back(kv.second);
  return value::sequence(kind::iterator, std::move(vals));
}

value fn_items(call_args& c) {
  arity(c, 1, 1);
  value d = dict_arg(c, 0);
  seq_t items;
  for (const auto& kv : d.pairs())
    items.push_back(make_tuple({kv.first, kv.second}));
  // dict.items() is set-like: Mistral keeps sets, and a set of pairs cannot
  // be output, which is why a bare `$.d.items()` fails in Mistral.
  return value::sequence(kind::set, std::move(items));
}

bool contains_value(const value& coll, const value& x) {
  bool found = false;
  coll.for_each([&](const value& item) {
    found = equal(item, x);
    return !found;
  });
  return found;
}

value fn_contains(call_args& c) {
  arity(c, 2, 2);
  return value::boolean(contains_value(iterable_arg(c, 0), c.get(1)));
}

value fn_contains_key(call_args& c) {
  arity(c, 2, 2);
  return value::boolean(dict_arg(c, 0).get(c.get(1)).has_value());
}

value fn_contains_value(call_args& c) {
  arity(c, 2, 2);
  value d = dict_arg(c, 0);
  value x = c.get(1);
  for (const auto& kv : d.pairs())
    if (equal(kv.second, x))
      return value::boolean(true);
  return value::boolean(false);
}

value fn_len(call_args& c) {
  arity(c, 1, 1);
  value v = c.get(0);
  if (v.is(kind::string)) {
    std::size_t n = 0;
    for (char ch : v.as_str())
      if ((static_cast<unsigned char>(ch) & 0xc0) != 0x80)
        ++n;
    return value::integer(static_cast<std::int64_t>(n));
  }
  if (v.is_iterable() || v.is(kind::dict))
    return value::integer(static_cast<std::int64_t>(v.size()));
  throw no_match{};
}

value fn_delete(call_args& c) {
  value v = c.get(0);
  if (v.is(kind::dict)) {
    dict_t out;
    seq_t keys;
    for (std::size_t i = 1; i < c.size(); ++i)
      keys.push_back(c.get(i));
    for (const auto& kv : v.pairs())
      if (!contains_value(value::sequence(kind::tuple, keys), kv.first))
        out.push_back(kv);
    return value::dict(std::move(out));
  }
  arity(c, 2, 3);
  value coll = iterable_arg(c, 0);
  std::int64_t pos = int_arg(c, 1);
  std::int64_t count = c.size() > 2 ? int_arg(c, 2) : 1;
  seq_t out;
  std::int64_t i = 0;
  coll.for_each([&](const value& x) {
    bool drop = count >= 0 ? (pos <= i && i < pos + count) : i >= pos;
    if (!drop)
      out.push_back(x);
    ++i;
    return true;
  });
  return make_iterator(c.ev, std::move(out));
}

value fn_delete_all(call_args& c) {
  arity(c, 2, 2);
  value d = dict_arg(c, 0);
  value keys = iterable_arg(c, 1);
  dict_t out;
  for (const auto& kv : d.pairs())
    if (!contains_value(keys, kv.first))
      out.push_back(kv);
  return value::dict(std::move(out));
}

value fn_insert(call_args& c) {
  arity(c, 3, 3);
  value coll = iterable_arg(c, 0);
  if (coll.is(kind::set))
    throw no_match{};
  std::int64_t pos = int_arg(c, 1);
  value x = c.get(2);
  seq_t items = coll.items();
  if (coll.is_sequence()) {
    // list.insert semantics: negative positions count from the end.
    auto n = static_cast<std::int64_t>(items.size());
    std::int64_t p = pos < 0 ? std::max<std::int64_t>(0, n + pos) : std::min(pos, n);
    items.insert(items.begin() + p, x);
    return make_list(std::move(items));
  }
  seq_t out;
  std::int64_t i = 0;
  for (const auto& t : items) {
    if (i == pos)
      out.push_back(x);
    out.push_back(t);
    ++i;
  }
  if (pos >= i)
    out.push_back(x);
  return make_iterator(c.ev, std::move(out));
}

value fn_insert_many(call_args& c) {
  arity(c, 3, 3);
  value coll = iterable_arg(c, 0);
  std::int64_t pos = int_arg(c, 1);
  seq_t vals = iterable_arg(c, 2).items();
  seq_t out;
  if (pos < 0)
    out.insert(out.end(), vals.begin(), vals.end());
  std::int64_t i = 0;
  coll.for_each([&](const value& t) {
    if (i == pos)
      out.insert(out.end(), vals.begin(), vals.end());
    out.push_back(t);
    ++i;
    return true;
  });
  if (pos >= i)
    out.insert(out.end(), vals.begin(), vals.end());
  return make_iterator(c.ev, std::move(out));
}

value replace_items(call_args& c, bool many) {
  arity(c, 3, 4);
  value coll = iterable_arg(c, 0);
  std::int64_t pos = int_arg(c, 1);
  value repl = c.get(2);
  std::int64_t count = c.size() > 3 ? int_arg(c, 3) : 1;
  seq_t vals = many ? (repl.is_iterable() ? repl.items() : throw no_match{}) : seq_t{repl};
  seq_t out;
  bool yielded = false;
  std::int64_t i = 0;
  coll.for_each([&](const value& t) {
    bool hit = count >= 0 ? (pos <= i && i < pos + count) : i >= pos;
    if (hit) {
      if (!yielded)
        out.insert(out.end(), vals.begin(), vals.end());
      yielded = true;
    } else {
      out.push_back(t);
    }
    ++i;
    return true;
  });
  return make_iterator(c.ev, std::move(out));
}

value fn_replace_coll(call_args& c) {
  if (!c.get(0).is_iterable())
    throw no_match{};
  return replace_items(c, false);
}

value fn_replace_many(call_args& c) {
  return replace_items(c, true);
}

value fn_set(call_args& c) {
  if (!c.mappings().empty())
    throw no_match{};
  seq_t out;
  for (std::size_t i = 0; i < c.size(); ++i)
    flatten_iterators(c.get(i), out);
  for (const auto& x : out)
    if (!hashable(x))
      fail("unhashable type: '" + std::string(type_name(x)) + "'");
  return make_set(out);
}

value fn_to_set(call_args& c) {
  arity(c, 1, 1);
  seq_t items = iterable_arg(c, 0).items();
  for (const auto& x : items)
    if (!hashable(x))
      fail("unhashable type: '" + std::string(type_name(x)) + "'");
  return make_set(items);
}

value set_arg(call_args& c, std::size_t i) {
  value v = c.get(i);
  if (!v.is(kind::set))
    throw no_match{};
  return v;
}

value fn_union(call_args& c) {
  arity(c, 2, 2);
  seq_t items = set_arg(c, 0).items();
  seq_t more = set_arg(c, 1).items();
  items.insert(items.end(), more.begin(), more.end());
  return make_set(items);
}

value set_filter(call_args& c, bool keep_common) {
  arity(c, 2, 2);
  value a = set_arg(c, 0), b = set_arg(c, 1);
  seq_t out;
  a.for_each([&](const value& x) {
    if (contains_value(b, x) == keep_common)
      out.push_back(x);
    return true;
  });
  return make_set(out);
}

value fn_intersect(call_args& c) {
  return set_filter(c, true);
}

value fn_difference(call_args& c) {
  return set_filter(c, false);
}

value fn_symmetric_difference(call_args& c) {
  arity(c, 2, 2);
  value a = set_arg(c, 0), b = set_arg(c, 1);
  seq_t out;
  a.for_each([&](const value& x) {
    if (!contains_value(b, x))
      out.push_back(x);
    return true;
  });
  b.for_each([&](const value& x) {
    if (!contains_value(a, x))
      out.push_back(x);
    return true;
  });
  return make_set(out);
}

value fn_set_add(call_args& c) {
  value s = set_arg(c, 0);
  seq_t items = s.items();
  for (std::size_t i = 1; i < c.size(); ++i) {
    value x = c.get(i);
    if (!hashable(x))
      fail("unhashable type: '" + std::string(type_name(x)) + "'");
    items.push_back(x);
  }
  return make_set(items);
}

value fn_set_remove(call_args& c) {
  value s = set_arg(c, 0);
  seq_t drop;
  for (std::size_t i = 1; i < c.size(); ++i)
    drop.push_back(c.get(i));
  value d = make_tuple(drop);
  seq_t out;
  s.for_each([&](const value& x) {
    if (!contains_value(d, x))
      out.push_back(x);
    return true;
  });
  return make_set(out);
}

value fn_is_list(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is_sequence());
}

value fn_is_dict(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is(kind::dict));
}

value fn_is_set(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is(kind::set));
}

// ---- queries.py ---------------------------------------------------------------

value fn_where(call_args& c) {
  arity(c, 2, 2);
  value coll = iterable_arg(c, 0);
  seq_t out;
  coll.for_each([&](const value& x) {
    c.ev.tick();
    if (truthy(c.call(1, {x})))
      out.push_back(x);
    return true;
  });
  c.ev.check_collection(out.size());
  return value::sequence(kind::iterator, std::move(out));
}

value fn_select(call_args& c) {
  arity(c, 2, 2);
  value coll = iterable_arg(c, 0);
  seq_t out;
  out.reserve(coll.size());
  coll.for_each([&](const value& x) {
    c.ev.tick();
    out.push_back(c.call(1, {x}));
    return true;
  });
  c.ev.check_collection(out.size());
  return value::sequence(kind::iterator, std::move(out));
}

value fn_skip(call_args& c) {
  arity(c, 2, 2);
  value coll = iterable_arg(c, 0);
  std::int64_t n = int_arg(c, 1);
  if (n < 0)
    fail("Indices for islice() must be None or an integer: 0 <= x <= sys.maxsize.");
  if (auto* gen = coll.endless()) {
    auto rest = std::make_shared<infinite_seq>(*gen);
    if (rest->counting) {
      rest->start += rest->step * n;
    } else {
      std::rotate(rest->pattern.begin(), rest->pattern.begin() + n % rest->pattern.size(),
                  rest->pattern.end());
    }
    return value::infinite(rest);
  }
  seq_t items = coll.items();
  seq_t out(items.begin() + std::min<std::size_t>(static_cast<std::size_t>(n), items.size()), items.end());
  return value::sequence(kind::iterator, std::move(out));
}

value fn_limit(call_args& c) {
  arity(c, 2, 2);
  value coll = iterable_arg(c, 0);
  std::int64_t n = int_arg(c, 1);
  if (n < 0)
    fail("Stop argument for islice() must be None or an integer: 0 <= x <= sys.maxsize.");
  seq_t out;
  coll.for_each([&](const value& x) {
    if (static_cast<std::int64_t>(out.size()) >= n)
      return false;
    out.push_back(x);
    return true;
  });
  return value::sequence(kind::iterator, std::move(out));
}

value fn_append(call_args& c) {
  seq_t out = iterable_arg(c, 0).items();
  for (std::size_t i = 1; i < c.size(); ++i)
    out.push_back(c.get(i));
  return make_iterator(c.ev, std::move(out));
}

value fn_distinct(call_args& c) {
  arity(c, 1, 2);
  value coll = iterable_arg(c, 0);
  seq_t out, keys;
  std::unordered_multimap<std::size_t, std::size_t> seen;
  coll.for_each([&](const value& x) {
    c.ev.tick();
    value key = c.size() > 1 ? c.call(1, {x}) : x;
    if (!hashable(key))
      fail("unhashable type: '" + std::string(type_name(key)) + "'");
    std::size_t h = hash(key);
    auto range = seen.equal_range(h);
    for (auto it = range.first; it != range.second; ++it)
      if (equal(keys[it->second], key))
        return true;
    seen.emplace(h, keys.size());
    keys.push_back(key);
    out.push_back(x);
    return true;
  });
  return value::sequence(kind::iterator, std::move(out));
}

value fn_enumerate(call_args& c) {
  arity(c, 1, 2);
  value coll = iterable_arg(c, 0);
  std::int64_t i = c.size() > 1 ? int_arg(c, 1) : 0;
  seq_t out;
  coll.for_each([&](const value& x) {
    out.push_back(make_list({value::integer(i++), x}));
    return true;
  });
  return make_iterator(c.ev, std::move(out));
}

value fn_any(call_args& c) {
  arity(c, 1, 2);
  value coll = iterable_arg(c, 0);
  bool found = false;
  coll.for_each([&](const value& x) {
    found = c.size() > 1 ? truthy(c.call(1, {x})) : true;
    return !found;
  });
  return value::boolean(found);
}

value fn_all(call_args& c) {
  arity(c, 1, 2);
  value coll = iterable_arg(c, 0);
  bool all = true;
  coll.for_each([&](const value& x) {
    all = truthy(c.size() > 1 ? c.call(1, {x}) : x);
    return all;
  });
  return value::boolean(all);
}

value fn_concat_coll(call_args& c) {
  seq_t out;
  for (std::size_t i = 0; i < c.size(); ++i) {
    value v = c.get(i);
    if (!v.is_iterable())
      throw no_match{};
    seq_t items = v.items();
    out.insert(out.end(), items.begin(), items.end());
  }
  return make_iterator(c.ev, std::move(out));
}

value fn_count(call_args& c) {
  arity(c, 1, 1);
  return value::integer(static_cast<std::int64_t>(iterable_arg(c, 0).size()));
}

value fn_memorize(call_args& c) {
  arity(c, 1, 1);
  return iterable_arg(c, 0);
}

value aggregate_with(call_args& c, const value& coll, bool has_seed, value seed,
                     const std::function<value(const value&, const value&)>& f) {
  seq_t items = coll.items();
  std::size_t start = 0;
  value acc = seed;
  if (!has_seed) {
    if (items.empty())
      fail("reduce() of empty iterable with no initial value");
    acc = items[0];
    start = 1;
  }
  for (std::size_t i = start; i < items.size(); ++i) {
    c.ev.tick();
    acc = f(acc, items[i]);
  }
  return acc;
}

value fn_sum(call_args& c) {
  arity(c, 1, 2);
  value coll = iterable_arg(c, 0);
  return aggregate_with(c, coll, c.size() > 1, c.size() > 1 ? c.get(1) : value(),
                        [&](const value& a, const value& b) { return c.ev.op_binary("+", a, b); });
}

value minmax(call_args& c, bool want_max) {
  arity(c, 1, 2);
  value coll = iterable_arg(c, 0);
  return aggregate_with(
    c, coll, c.size() > 1, c.size() > 1 ? c.get(1) : value(), [&](const value& a, const value& b) {
      bool b_wins = want_max ? c.ev.op_binary(">", b, a).as_bool() : !c.ev.op_binary(">", a, b).as_bool();
      if (!want_max)
        return c.ev.op_binary(">", b, a).as_bool() ? a : b;
      return b_wins ? b : a;
    });
}

value fn_max_coll(call_args& c) {
  return minmax(c, true);
}

value fn_min_coll(call_args& c) {
  return minmax(c, false);
}

value fn_first(call_args& c) {
  arity(c, 1, 2);
  value coll = iterable_arg(c, 0);
  if (auto* gen = coll.endless())
    return gen->at(0);
  if (coll.size() > 0)
    return coll.at(0);
  if (c.size() > 1)
    return c.get(1);
  fail(""); // str(StopIteration()) is empty
}

value fn_single(call_args& c) {
  arity(c, 1, 1);
  value coll = iterable_arg(c, 0);
  if (coll.size() == 0)
    fail(""); // str(StopIteration()) is empty
  if (coll.size() > 1)
    fail("Collection contains more than one item");
  return coll.at(0);
}

value fn_last(call_args& c) {
  arity(c, 1, 2);
  value coll = iterable_arg(c, 0);
  if (coll.size() > 0)
    return coll.at(coll.size() - 1);
  if (c.size() > 1)
    return c.get(1);
  fail(""); // str(StopIteration()) is empty
}

value fn_select_many(call_args& c) {
  arity(c, 2, 2);
  value coll = iterable_arg(c, 0);
  seq_t out;
  coll.for_each([&](const value& x) {
    value inner = c.call(1, {x});
    if (inner.is_iterable()) {
      seq_t items = inner.items();
      c.ev.tick(items.size());
      out.insert(out.end(), items.begin(), items.end());
    } else {
      c.ev.tick();
      out.push_back(inner);
    }
    return true;
  });
  return value::sequence(kind::iterator, std::move(out));
}

value fn_range(call_args& c) {
  arity(c, 1, 3);
  std::int64_t start = 0, stop, step = 1;
  if (c.size() == 1) {
    stop = int_arg(c, 0);
  } else {
    start = int_arg(c, 0);
    stop = int_arg(c, 1);
    if (c.size() == 3)
      step = int_arg(c, 2);
  }
  if (step == 0)
    fail("range() arg 3 must not be zero");
  double count =
    std::ceil((static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step));
  if (count > 0) {
    c.ev.check_collection(static_cast<std::size_t>(std::min(count, 1e18)));
    c.ev.tick(static_cast<std::size_t>(std::min(count, 1e18)));
    c.ev.charge(static_cast<std::size_t>(std::min(count, 1e15)) * sizeof(value));
  }
  seq_t out;
  for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
    out.push_back(value::integer(i));
  return value::sequence(kind::iterator, std::move(out));
}

value fn_sequence(call_args& c) {
  arity(c, 0, 2);
  auto gen = std::make_shared<infinite_seq>();
  gen->counting = true;
  gen->start = c.size() > 0 ? int_arg(c, 0) : 0;
  gen->step = c.size() > 1 ? int_arg(c, 1) : 1;
  return value::infinite(gen);
}

/// orderBy state: the source items and the sort keys so far.
struct ordering {
  seq_t source;
  std::vector<std::pair<const node*, bool>> keys;
  scope_ptr sc;
};

value sort_ordering(call_args& c, std::shared_ptr<ordering> o) {
  std::vector<std::pair<seq_t, value>> rows;
  for (const auto& x : o->source) {
    seq_t k;
    for (const auto& key : o->keys)
      k.push_back(c.ev.call_lambda(*key.first, o->sc, {x}));
    rows.emplace_back(std::move(k), x);
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& l, const auto& r) {
    for (std::size_t i = 0; i < o->keys.size(); ++i) {
      if (c.ev.less(l.first[i], r.first[i]))
        return o->keys[i].second;
      if (c.ev.less(r.first[i], l.first[i]))
        return !o->keys[i].second;
    }
    return false;
  });
  seq_t out;
  for (auto& row : rows)
    out.push_back(std::move(row.second));
  value v = value::sequence(kind::iterator, std::move(out));
  v.set_aux(o);
  return v;
}

value order_by(call_args& c, bool ascending) {
  arity(c, 2, 2);
  auto o = std::make_shared<ordering>();
  o->source = iterable_arg(c, 0).items();
  o->keys.emplace_back(c.node_at(1), ascending);
  o->sc = c.sc;
  return sort_ordering(c, o);
}

value then_by(call_args& c, bool ascending) {
  arity(c, 2, 2);
  value coll = c.get(0);
  auto prev = std::static_pointer_cast<const ordering>(coll.aux());
  if (!coll.is(kind::iterator) || !prev)
    throw no_match{};
  auto o = std::make_shared<ordering>(*prev);
  o->keys.emplace_back(c.node_at(1), ascending);
  return sort_ordering(c, o);
}

value fn_order_by(call_args& c) {
  return order_by(c, true);
}
value fn_order_by_desc(call_args& c) {
  return order_by(c, false);
}
value fn_then_by(call_args& c) {
  return then_by(c, true);
}
value fn_then_by_desc(call_args& c) {
  return then_by(c, false);
}

value fn_group_by(call_args& c) {
  arity(c, 2, 4);
  value coll = iterable_arg(c, 0);
  const node* value_sel = c.size() > 2 && !c.omitted(2) ? c.node_at(2) : c.named("valueSelector");
  const node* agg = c.size() > 3 ? c.node_at(3) : c.named("aggregator");
  dict_t groups;
  std::vector<seq_t> members;
  coll.for_each([&](const value& x) {
    value key = c.call(1, {x});
    value v = value_sel ? c.ev.call_lambda(*value_sel, c.sc, {x}) : x;
    for (std::size_t i = 0; i < groups.size(); ++i)
      if (equal(groups[i].first, key)) {
        members[i].push_back(v);
        return true;
      }
    groups.emplace_back(key, value());
    members.push_back({v});
    return true;
  });
  seq_t out;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    value list = make_list(members[i]);
    if (!agg) {
      out.push_back(make_tuple({groups[i].first, list}));
      continue;
    }
    value r;
    try {
      r = c.ev.call_lambda(*agg, c.sc, {list});
    } catch (const eval_error&) {
      r = c.ev.call_lambda(*agg, c.sc, {make_tuple({groups[i].first, list})});
      out.push_back(r);
      continue;
    }
    out.push_back(make_tuple({groups[i].first, r}));
  }
  return make_iterator(c.ev, std::move(out));
}

value fn_zip(call_args& c) {
  std::vector<seq_t> cols;
  std::size_t n = SIZE_MAX;
  for (std::size_t i = 0; i < c.size(); ++i) {
    cols.push_back(iterable_arg(c, i).items());
    n = std::min(n, cols.back().size());
  }
  if (cols.empty())
    n = 0;
  seq_t out;
  for (std::size_t r = 0; r < n; ++r) {
    seq_t row;
    for (const auto& col : cols)
      row.push_back(col[r]);
    out.push_back(make_tuple(std::move(row)));
  }
  return make_iterator(c.ev, std::move(out));
}

value fn_zip_longest(call_args& c) {
  std::vector<seq_t> cols;
  std::size_t n = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    cols.push_back(iterable_arg(c, i).items());
    n = std::max(n, cols.back().size());
  }
  value fill = c.named_value("default");
  seq_t out;
  for (std::size_t r = 0; r < n; ++r) {
    seq_t row;
    for (const auto& col : cols)
      row.push_back(r < col.size() ? col[r] : fill);
    out.push_back(make_tuple(std::move(row)));
  }
  return make_iterator(c.ev, std::move(out));
}

value fn_join_coll(call_args& c) {
  arity(c, 4, 4);
  seq_t a = iterable_arg(c, 0).items();
  seq_t b = iterable_arg(c, 1).items();
  seq_t out;
  for (const auto& x : a)
    for (const auto& y : b) {
      c.ev.tick();
      if (truthy(c.call(2, {x, y})))
        out.push_back(c.call(3, {x, y}));
    }
  return value::sequence(kind::iterator, std::move(out));
}

value fn_repeat(call_args& c) {
  arity(c, 1, 2);
  value x = c.get(0);
  std::int64_t times = c.size() > 1 ? int_arg(c, 1) : -1;
  if (times < 0) {
    auto gen = std::make_shared<infinite_seq>();
    gen->pattern = {x};
    return value::infinite(gen);
  }
  c.ev.check_collection(static_cast<std::size_t>(times));
  c.ev.tick(static_cast<std::size_t>(times));
  c.ev.charge(static_cast<std::size_t>(times) * sizeof(value));
  return value::sequence(kind::iterator, seq_t(static_cast<std::size_t>(times), x));
}

value fn_cycle(call_args& c) {
  arity(c, 1, 1);
  seq_t items = iterable_arg(c, 0).items();
  if (items.empty())
    return value::sequence(kind::iterator, {});
  auto gen = std::make_shared<infinite_seq>();
  gen->pattern = std::move(items);
  return value::infinite(gen);
}

value fn_take_while(call_args& c) {
  arity(c, 2, 2);
  seq_t out;
  iterable_arg(c, 0).for_each([&](const value& x) {
    if (!truthy(c.call(1, {x})))
      return false;
    out.push_back(x);
    return true;
  });
  return value::sequence(kind::iterator, std::move(out));
}

value fn_skip_while(call_args& c) {
  arity(c, 2, 2);
  seq_t out;
  bool skipping = true;
  iterable_arg(c, 0).for_each([&](const value& x) {
    if (skipping && truthy(c.call(1, {x})))
      return true;
    skipping = false;
    out.push_back(x);
    return true;
  });
  return value::sequence(kind::iterator, std::move(out));
}

value index_search(call_args& c, bool last, bool by_predicate) {
  arity(c, 2, 2);
  value coll = c.get(0);
  if (!coll.is_iterable())
    throw no_match{};
  value item = by_predicate ? value() : c.get(1);
  std::int64_t i = 0, found = -1;
  coll.for_each([&](const value& x) {
    bool hit = by_predicate ? truthy(c.call(1, {x})) : equal(x, item);
    if (hit) {
      found = i;
      if (!last)
        return false;
    }
    ++i;
    return true;
  });
  return value::integer(found);
}

value fn_index_of_coll(call_args& c) {
  return index_search(c, false, false);
}
value fn_last_index_of_coll(call_args& c) {
  return index_search(c, true, false);
}
value fn_index_where(call_args& c) {
  return index_search(c, false, true);
}
value fn_last_index_where(call_args& c) {
  return index_search(c, true, true);
}

value fn_slice(call_args& c) {
  arity(c, 2, 2);
  seq_t items = iterable_arg(c, 0).items();
  std::int64_t n = int_arg(c, 1);
  if (n <= 0)
    fail("slice length must be positive");
  seq_t out;
  for (std::size_t i = 0; i < items.size(); i += static_cast<std::size_t>(n)) {
    std::size_t end = std::min(items.size(), i + static_cast<std::size_t>(n));
    out.push_back(make_tuple(seq_t(items.begin() + i, items.begin() + end)));
  }
  return make_iterator(c.ev, std::move(out));
}

value fn_split_where(call_args& c) {
  arity(c, 2, 2);
  seq_t items = iterable_arg(c, 0).items();
  seq_t out;
  std::size_t start = 0, end = 0;
  for (; end < items.size(); ++end) {
    if (truthy(c.call(1, {items[end]}))) {
      out.push_back(make_tuple(seq_t(items.begin() + start, items.begin() + end)));
      start = end + 1;
    }
  }
  if (start != end)
    out.push_back(make_tuple(seq_t(items.begin() + start, items.begin() + end)));
  return make_iterator(c.ev, std::move(out));
}

value fn_slice_where(call_args& c) {
  arity(c, 2, 2);
  seq_t items = iterable_arg(c, 0).items();
  seq_t out;
  std::size_t start = 0, end = 0;
  std::optional<value> p1;
  for (; end < items.size(); ++end) {
    value p2 = c.call(1, {items[end]});
    if (p1 && !equal(*p1, p2)) {
      out.push_back(make_tuple(seq_t(items.begin() + start, items.begin() + end)));
      start = end;
    }
    p1 = p2;
  }
  if (start != end)
    out.push_back(make_tuple(seq_t(items.begin() + start, items.begin() + end)));
  return make_iterator(c.ev, std::move(out));
}

value fn_split_at(call_args& c) {
  arity(c, 2, 2);
  seq_t items = iterable_arg(c, 0).items();
  auto n = static_cast<std::int64_t>(items.size());
  std::int64_t i = int_arg(c, 1);
  if (i < 0)
    i = std::max<std::int64_t>(0, n + i);
  i = std::min(i, n);
  return make_list(
    {make_tuple(seq_t(items.begin(), items.begin() + i)), make_tuple(seq_t(items.begin() + i, items.end()))});
}

value fn_aggregate(call_args& c) {
  arity(c, 2, 3);
  value coll = iterable_arg(c, 0);
  return aggregate_with(c, coll, c.size() > 2, c.size() > 2 ? c.get(2) : value(),
                        [&](const value& a, const value& b) {
                          return c.call(1, {a, b});
                        });
}

value fn_accumulate(call_args& c) {
  arity(c, 2, 3);
  seq_t items = iterable_arg(c, 0).items();
  std::size_t start = 0;
  value total;
  if (c.size() > 2) {
    total = c.get(2);
  } else {
    if (items.empty())
      fail("accumulate() of empty sequence with no initial value");
    total = items[0];
    start = 1;
  }
  seq_t out{total};
  for (std::size_t i = start; i < items.size(); ++i) {
    total = c.call(1, {total, items[i]});
    out.push_back(total);
  }
  return make_iterator(c.ev, std::move(out));
}

value fn_reverse(call_args& c) {
  arity(c, 1, 1);
  seq_t items = iterable_arg(c, 0).items();
  std::reverse(items.begin(), items.end());
  return value::sequence(kind::iterator, std::move(items));
}

value merge_dicts(call_args& c, const value& d1, const value& d2, int max_levels) {
  dict_t out;
  for (const auto& kv : d1.pairs()) {
    value v1 = kv.second;
    auto v2 = d2.get(kv.first);
    if (!v2) {
      out.emplace_back(kv.first, v1);
      continue;
    }
    if (max_levels != 1 && v2->is(kind::dict)) {
      if (!v1.is(kind::dict))
        fail("Cannot merge " + std::string(type_name(v1)) + " with " + type_name(*v2));
      out.emplace_back(kv.first, merge_dicts(c, v1, *v2, max_levels == 0 ? 0 : max_levels - 1));
    } else if (max_levels != 1 && v2->is_sequence()) {
      if (!v1.is_sequence())
        fail("Cannot merge " + std::string(type_name(v1)) + " with " + type_name(*v2));
      const node* lm = c.size() > 2 && !c.omitted(2) ? c.node_at(2) : c.named("listMerger");
      if (lm) {
        out.emplace_back(kv.first, c.ev.call_lambda(*lm, c.sc, {v1, *v2}));
      } else {
        seq_t all = v1.items();
        seq_t more = v2->items();
        all.insert(all.end(), more.begin(), more.end());
        seq_t uniq;
        for (const auto& x : all)
          if (std::none_of(uniq.begin(), uniq.end(), [&](const value& u) { return equal(u, x); }))
            uniq.push_back(x);
        out.emplace_back(kv.first, make_tuple(std::move(uniq)));
      }
    } else {
      const node* im = c.size() > 3 && !c.omitted(3) ? c.node_at(3) : c.named("itemMerger");
      out.emplace_back(kv.first, im ? c.ev.call_lambda(*im, c.sc, {v1, *v2}) : *v2);
    }
  }
  for (const auto& kv : d2.pairs())
    if (!d1.get(kv.first))
      out.push_back(kv);
  return value::dict(std::move(out));
}

value fn_merge_with(call_args& c) {
  arity(c, 2, 5);
  value a = dict_arg(c, 0), b = dict_arg(c, 1);
  value lv = c.size() > 4 ? c.get(4) : c.named_value("maxLevels");
  int levels = lv.is(kind::integer) ? static_cast<int>(lv.as_int()) : 0;
  return merge_dicts(c, a, b, levels);
}

value fn_is_iterable(call_args& c) {
  arity(c, 1, 1);
  return value::boolean(c.get(0).is_iterable());
}

value fn_generate(call_args& c) {
  arity(c, 3, 5);
  value cur = c.get(0);
  const node* selector = c.size() > 3 ? c.node_at(3) : c.named("selector");
  value decycle = c.size() > 4 ? c.get(4) : c.named_value("decycle");
  seq_t out, past;
  while (truthy(c.call(1, {cur}))) {
    c.ev.tick();
    if (truthy(decycle)) {
      if (std::any_of(past.begin(), past.end(), [&](const value& p) { return equal(p, cur); }))
        break;
      past.push_back(cur);
    }
    out.push_back(selector ? c.ev.call_lambda(*selector, c.sc, {cur}) : cur);
    cur = c.call(2, {cur});
  }
  return value::sequence(kind::iterator, std::move(out));
}

value fn_generate_many(call_args& c) {
  arity(c, 2, 5);
  const node* selector = c.size() > 2 ? c.node_at(2) : c.named("selector");
  value decycle = c.size() > 3 ? c.get(3) : c.named_value("decycle");
  value depth_first = c.size() > 4 ? c.get(4) : c.named_value("depthFirst");
  std::deque<value> queue{c.get(0)};
  seq_t out, past;
  while (!queue.empty()) {
    c.ev.tick();
    value item = queue.front();
    queue.pop_front();
    if (truthy(decycle)) {
      if (std::any_of(past.begin(), past.end(), [&](const value& p) { return equal(p, item); }))
        continue;
      past.push_back(item);
    }
    out.push_back(selector ? c.ev.call_lambda(*selector, c.sc, {item}) : item);
    value produced = c.call(1, {item});
    if (!produced.is_iterable())
      fail("producer must return an iterable");
    seq_t items = produced.items();
    if (truthy(depth_first))
      queue.insert(queue.begin(), items.begin(), items.end());
    else
      queue.insert(queue.end(), items.begin(), items.end());
  }
  return value::sequence(kind::iterator, std::move(out));
}

value fn_default_if_empty(call_args& c) {
  arity(c, 2, 2);
  value coll = iterable_arg(c, 0);
  value def = iterable_arg(c, 1);
  return coll.size() == 0 ? def : coll;
}

} // namespace

void register_collections(table& t) {
  add(t, "list", fn_list, true, false);
  add(t, "#list", fn_build_list, true, false);
  add(t, "toList", fn_to_list, false, true);
  add(t, "flatten", fn_flatten, false, true);
  add(t, "dict", fn_dict, true, false);
  add(t, "#map", fn_dict, true, false);
  add(t, "toDict", fn_to_dict, false, true);
  add(t, "#indexer", fn_indexer, true, false);
  add(t, "get", fn_get, false, true);
  add(t, "set", fn_dict_set, false, true);
  add(t, "set", fn_set, true, false);
  add(t, "keys", fn_keys, false, true);
  add(t, "values", fn_values, false, true);
  add(t, "items", fn_items, false, true);
  add(t, "contains", fn_contains, false, true);
  add(t, "containsKey", fn_contains_key, false, true);
  add(t, "containsValue", fn_contains_value, false, true);
  add(t, "len", fn_len, true, true);
  add(t, "delete", fn_delete, false, true);
  add(t, "deleteAll", fn_delete_all, false, true);
  add(t, "insert", fn_insert, false, true);
  add(t, "insertMany", fn_insert_many, false, true);
  add(t, "replace", fn_replace_coll, false, true);
  add(t, "replaceMany", fn_replace_many, false, true);
  add(t, "toSet", fn_to_set, false, true);
  add(t, "union", fn_union, false, true);
  add(t, "intersect", fn_intersect, false, true);
  add(t, "difference", fn_difference, false, true);
  add(t, "symmetricDifference", fn_symmetric_difference, false, true);
  add(t, "add", fn_set_add, false, true);
  add(t, "remove", fn_set_remove, false, true);
  add(t, "isList", fn_is_list, true, false);
  add(t, "isDict", fn_is_dict, true, false);
  add(t, "isSet", fn_is_set, true, false);
}

void register_queries(table& t) {
  add(t, "where", fn_where, false, true);
  add(t, "filter", fn_where, false, true);
  add(t, "select", fn_select, false, true);
  add(t, "map", fn_select, false, true);
  add(t, "skip", fn_skip, false, true);
  add(t, "limit", fn_limit, false, true);
  add(t, "take", fn_limit, false, true);
  add(t, "append", fn_append, true, true);
  add(t, "distinct", fn_distinct, true, true);
  add(t, "enumerate", fn_enumerate, true, true);
  add(t, "any", fn_any, true, true);
  add(t, "all", fn_all, true, true);
  add(t, "concat", fn_concat_coll, true, true);
  add(t, "count", fn_count, false, true);
  add(t, "memorize", fn_memorize, false, true);
  add(t, "sum", fn_sum, false, true);
  add(t, "max", fn_max_coll, false, true);
  add(t, "min", fn_min_coll, false, true);
  add(t, "first", fn_first, false, true);
  add(t, "single", fn_single, false, true);
  add(t, "last", fn_last, false, true);
  add(t, "selectMany", fn_select_many, false, true);
  add(t, "range", fn_range, true, false);
  add(t, "sequence", fn_sequence, true, false);
  add(t, "orderBy", fn_order_by, false, true);
  add(t, "orderByDescending", fn_order_by_desc, false, true);
  add(t, "thenBy", fn_then_by, false, true);
  add(t, "thenByDescending", fn_then_by_desc, false, true);
  add(t, "groupBy", fn_group_by, false, true);
  add(t, "join", fn_join_coll, false, true);
  add(t, "zip", fn_zip, false, true);
  add(t, "zipLongest", fn_zip_longest, false, true);
  add(t, "repeat", fn_repeat, false, true);
  add(t, "cycle", fn_cycle, false, true);
  add(t, "takeWhile", fn_take_while, false, true);
  add(t, "skipWhile", fn_skip_while, false, true);
  add(t, "indexOf", fn_index_of_coll, false, true);
  add(t, "lastIndexOf", fn_last_index_of_coll, false, true);
  add(t, "indexWhere", fn_index_where, false, true);
  add(t, "lastIndexWhere", fn_last_index_where, false, true);
  add(t, "slice", fn_slice, false, true);
  add(t, "splitWhere", fn_split_where, false, true);
  add(t, "sliceWhere", fn_slice_where, false, true);
  add(t, "splitAt", fn_split_at, false, true);
  add(t, "aggregate", fn_aggregate, false, true);
  add(t, "reduce", fn_aggregate, false, true);
  add(t, "accumulate", fn_accumulate, false, true);
  add(t, "reverse", fn_reverse, false, true);
  add(t, "mergeWith", fn_merge_with, false, true);
  add(t, "isIterable", fn_is_iterable, true, false);
  add(t, "generate", fn_generate, true, false);
  add(t, "generateMany", fn_generate_many, true, false);
  add(t, "defaultIfEmpty", fn_default_if_empty, false, true);
}

} // namespace mistral::expr::yaql::lib

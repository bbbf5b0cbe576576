#pragma once

// Internal: helpers shared by the YAQL library files and the registration
// entry points of each function group.

#include "dsl/expr/yaql_eval.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mistral::expr::yaql::lib {

/// The function table being filled.
using table = std::unordered_map<std::string, std::vector<builtin>>;

/// Adds an overload callable as a function and/or a method.
void add(table& t, const std::string& name, value (*fn)(call_args&), bool as_function = true,
         bool as_method = true);

void register_collections(table& t);
void register_queries(table& t);
void register_strings(table& t);
void register_math(table& t);
void register_system(table& t);
void register_regex(table& t);
void register_mistral(table& t);
void register_datetime(table& t);

/// A property of a datetime or timespan (`.year`, `.seconds`...), if it has one.
std::optional<value> datetime_property(const value& v, const std::string& name);
/// An operator over datetimes and timespans, if one applies.
std::optional<value> datetime_binary(const std::string& op, const value& a, const value& b);

/// Argument checks: each throws no_match when the argument has the wrong type.
void arity(call_args& c, std::size_t min, std::size_t max);
std::int64_t int_arg(call_args& c, std::size_t i);
std::string str_arg(call_args& c, std::size_t i);
value iterable_arg(call_args& c, std::size_t i);
value dict_arg(call_args& c, std::size_t i);
value number_arg(call_args& c, std::size_t i);

/// Result builders.
value make_iterator(evaluator& ev, seq_t items);
value make_tuple(seq_t items);
value make_list(seq_t items);

} // namespace mistral::expr::yaql::lib

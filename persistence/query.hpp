#pragma once

#include "common/json.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mistral::persistence {

/// Mistral's filter operators (`?name=op:value`), plus `is_null` for `nulls=`.
enum class filter_op { eq, neq, gt, gte, lt, lte, in, nin, has, is_null };

/// One condition on a column. `in`/`nin` use every value, `is_null` none,
/// the others the first.
struct filter {
  std::string column;
  filter_op op = filter_op::eq;
  std::vector<json> values;
};

struct sort_key {
  std::string column;
  bool descending = false;
};

/// A page of a collection: filters, order, and the keyset after `marker`.
struct list_query {
  std::vector<filter> filters;
  std::vector<sort_key> sort;        ///< empty: by id
  std::optional<std::string> marker; ///< id of the last row of the previous page
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> offset = std::nullopt; ///< rows to skip (after the marker)
  /// The columns to read, in any order (rows hold them in table order);
  /// empty: every column. Filters and sort keys may name other columns.
  std::vector<std::string> columns = {};
};

/// Parses Mistral's filter value syntax "op:value" ("in:a,b", "gt:3"); no
/// known prefix means eq of the whole text. false for an unknown operator.
bool parse_filter_value(const std::string& text, filter_op& op, std::string& value);

/// The operator's name as Mistral writes it ("eq", "neq", ...).
const char* name_of(filter_op op) noexcept;

} // namespace mistral::persistence

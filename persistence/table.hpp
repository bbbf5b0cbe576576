#pragma once

#include "common/json.hpp"

#include <string>
#include <vector>

namespace mistral::persistence {

/// How a column's value is stored and read back.
enum class column_kind {
  text,      ///< VARCHAR/TEXT ↔ JSON string (or null)
  json_text, ///< TEXT holding JSON ↔ any JSON value
  integer,   ///< BIGINT ↔ JSON integer
  boolean,   ///< SMALLINT 0/1 ↔ JSON bool (SOCI 4.0 has no bool type)
  timestamp, ///< BIGINT microseconds since the epoch (UTC) ↔ JSON integer
};

struct column {
  std::string name;
  column_kind kind = column_kind::text;
};

/// A table as the generic store sees it. Every table has a text `id` key.
/// Tables are static: the store keys its prepared statements on their
/// address, so a table_def must outlive every database it was used with.
struct table_def {
  std::string name;
  std::vector<column> columns;

  /// The column called `name`, or null.
  const column* find(const std::string& name) const;
};

/// One row: a JSON object from column name to value.
using record = json;

} // namespace mistral::persistence

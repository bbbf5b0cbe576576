#pragma once

// A row as the values a statement binds, column by column of its table.
// The engine writes ~100 rows per commit; as JSON records each row was ~40
// small allocations built on the engine's thread and freed on the store's
// writer thread (contending for the allocator's arena): a third of a busy
// server's CPU. A packed row is two allocations, its text values side by
// side in one buffer, bound where they lie.

#include "persistence/table.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mistral::persistence {

/// One value as a statement binds it: SQL NULL, an integer or text.
struct cell_value {
  enum { null, number, text } what = null;
  long long n = 0;
  std::string_view s; ///< into the value, its row or a scratch string
};

/// How the store keeps `v` in column `c` (the column_kind mapping): strings
/// of text columns as they are, other values of text and JSON columns as
/// JSON text (written into `scratch`), booleans as 0/1, times as
/// microseconds.
cell_value value_of(const column& c, const json& v, std::string& scratch);

/// json::dump appended to `out` (dump() allocates a new string).
void dump_append(std::string& out, const json& v);

class packed_row {
public:
  packed_row() = default;
  explicit packed_row(const table_def& t) : table_(&t), cells_(t.columns.size()) {}

  const table_def* table() const { return table_; }
  /// The bitmask of the columns set, by column index.
  std::uint64_t present() const { return present_; }
  bool empty() const { return present_ == 0; }
  bool has(std::string_view column) const;
  /// The value of column `i` (null when it was not set).
  cell_value at(std::size_t i) const;

  /// Sets column `name` (of the table) to `v`, as value_of would store it.
  /// Columns the table lacks are ignored. Strings and numbers skip the JSON
  /// value a record would build for them.
  packed_row& set(std::string_view name, const json& v);
  packed_row& set(std::string_view name, const std::string& v);
  packed_row& set(std::string_view name, const char* v) { return set(name, std::string_view(v)); }
  packed_row& set(std::string_view name, std::string_view v);
  packed_row& set(std::string_view name, const std::optional<std::string>& v);
  packed_row& set(std::string_view name, long long v);
  packed_row& set(std::string_view name, int v) { return set(name, static_cast<long long>(v)); }
  packed_row& set(std::string_view name, long v) { return set(name, static_cast<long long>(v)); }
  packed_row& set(std::string_view name, bool v);
  packed_row& set(std::string_view name, const std::optional<long long>& v);
  packed_row& set(std::string_view name, const std::optional<long>& v);
  packed_row& set(std::string_view name, std::nullptr_t);

  /// The row as a record: what reading it back from the store gives.
  record to_record() const;

private:
  struct cell {
    decltype(cell_value::what) what = cell_value::null;
    long long n = 0;
    std::uint32_t offset = 0, size = 0;
  };
  /// The index of column `name`, searching on from the last one found (rows
  /// set their columns in a fixed order); -1 when the table lacks it.
  long index_of(std::string_view name);
  void put_null(std::size_t i);
  /// Column `i` is the text appended to the row's buffer since `start`.
  void put_text_from(std::size_t i, std::size_t start);
  void put_text(std::size_t i, std::string_view s);
  void put_number(std::size_t i, long long n);
  /// Column `i` set to `v` as value_of stores it in the column's kind.
  void put_json(std::size_t i, const json& v);

  const table_def* table_ = nullptr;
  std::uint64_t present_ = 0;
  std::vector<cell> cells_;
  std::string text_;
  std::size_t next_ = 0;
};

} // namespace mistral::persistence

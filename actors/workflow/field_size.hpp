#pragma once

// [engine] execution_field_size_limit_kb: Mistral's validate_long_type_length
// (db/v2/sqlalchemy/models.py), run whenever an execution's input, output,
// params or published is set.

#include "common/json.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace mistral::engine {

/// What Mistral measures: int(sys.getsizeof(str(value)) / 1024), the size
/// in KB of the Python string object of the value's str().
std::int64_t python_size_kb(const json& value);

/// Mistral's "Field size limit exceeded [class=TaskExecution, field=F,
/// size=NKB, limit=LKB]" when `value` is over `limit_kb` (negative: no
/// limit), else nullopt. Mistral names class TaskExecution for every
/// execution kind (its validator closes over the last class registered).
std::optional<std::string> field_size_error(const std::string& field, const json& value,
                                            std::int64_t limit_kb);

} // namespace mistral::engine

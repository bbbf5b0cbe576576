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

/// mistral_lib's cut_string: the first `length` code points plus "..."
/// when the text is longer; negative lengths keep it whole.
std::string cut_text(const std::string& utf8, std::int64_t length);

/// Execution state_info as Mistral stores it: cut to 65500 characters (the
/// listener on Execution.state_info in models.py).
std::string cut_state_info(const std::string& utf8);

/// mistral_lib's cut_by_kb on a text: cut to limit_kb * 1024 characters.
std::string cut_text_by_kb(const std::string& utf8, std::int64_t limit_kb);

} // namespace mistral::engine

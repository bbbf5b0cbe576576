#pragma once

// Python's json.loads() for the places where Mistral feeds DSL text to it
// (inline parameter values, with-items lists): the same accepted syntax
// (NaN, Infinity) and the same error messages.

#include "common/error.hpp"
#include "common/json.hpp"

#include <string_view>

namespace mistral::dsl {

/// json.loads(text); on failure the error message is Python's, e.g.
/// "Expecting value: line 1 column 4 (char 3)".
result<json> py_json_loads(std::string_view text);

} // namespace mistral::dsl

#pragma once

// Python value semantics wherever users see them: how Mistral's Python
// prints, compares and tests JSON values. Shared by YAQL and Jinja.

#include "common/json.hpp"

#include <string>

namespace mistral::expr {

/// Python's repr() of a float: the shortest text that round-trips, with
/// Python's switch to exponent form (1e+16, 1e-05), "inf", "nan", "1.0".
std::string py_float_repr(double v);

/// Python's repr() of a JSON value seen as Python data: None, True, False,
/// 'text' (Python's quote choice and escapes), [1, 2], {'k': 'v'}.
std::string py_repr(const json& v);

/// Python's str(): strings as they are, everything else as py_repr.
std::string py_str(const json& v);

/// Python's truthiness: None, False, 0, 0.0, "", [] and {} are false.
bool py_truthy(const json& v);

/// Python's ==: 1 == 1.0 == True, lists and dicts element-wise (dict order ignored).
bool py_equal(const json& a, const json& b);

} // namespace mistral::expr

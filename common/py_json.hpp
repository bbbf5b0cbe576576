#pragma once

// JSON text exactly as Python's json.dumps writes it, which is what Mistral's
// API responses and JSON-encoded string fields contain.

#include "common/json.hpp"

#include <string>

namespace mistral {

/// Python's repr() of a float: shortest round-trip digits, exponent form
/// when the decimal point is at <= -4 or > 16 (1e+16, 1e-05), "1.0", "inf", "nan".
std::string python_float_repr(double v);

/// json.dumps(v) with Python's defaults: ", " and ": " separators,
/// ensure_ascii (non-ASCII as \uXXXX, surrogate pairs above the BMP),
/// Python float repr, NaN/Infinity. With indent >= 0, json.dumps(v, indent=N)
/// (Python 3 uses "," at line ends then).
std::string python_json_dumps(const json& v, int indent = -1);

} // namespace mistral

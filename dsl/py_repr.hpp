#pragma once

// Python's repr()/str() of loaded DSL data, for Mistral's messages. Like
// expr::py_repr, plus the one Python type YAML adds that JSON lacks: dates
// and datetimes (PyYAML's timestamps), which the loader keeps as JSON binary
// values so that no schema type accepts them, as in Mistral.

#include "common/json.hpp"

#include <string>
#include <string_view>

namespace mistral::dsl {

/// repr() of a value as Mistral's Python sees it.
std::string py_repr(const json& v);

/// str() of a value: strings as they are, else py_repr.
std::string py_str(const json& v);

/// A YAML timestamp as the loader stores it: a binary value carrying Python's
/// repr ("datetime.date(2020, 1, 1)") and the original text.
json make_timestamp(std::string_view repr, std::string_view text);

/// True for a value made by make_timestamp.
bool is_timestamp(const json& v) noexcept;

/// Replaces every timestamp inside `v` by its original text (for specs handed
/// to the engine, which only knows JSON).
void timestamps_to_strings(json& v);

} // namespace mistral::dsl

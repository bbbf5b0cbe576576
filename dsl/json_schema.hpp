#pragma once

// The part of Python's jsonschema 4.10 (Draft 2020-12) that Mistral's DSL
// schemas use, down to the wording of its messages and the choice that
// jsonschema.validate() makes among several errors (exceptions.best_match).

#include "common/json.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mistral::dsl {

/// One jsonschema ValidationError.
struct schema_error {
  std::string message;               ///< e.g. "'delay' is a required property"
  std::string keyword;               ///< the failing keyword ("required", "oneOf", ...)
  std::vector<std::string> path;     ///< instance path relative to the parent error
  const json* schema = nullptr;      ///< the (sub)schema holding the keyword
  const json* instance = nullptr;    ///< the value that failed
  std::vector<schema_error> context; ///< sub-errors of anyOf / oneOf
};

/// The error jsonschema.validate(instance, schema) raises, or nullopt.
///
/// `path_out` receives the absolute instance path of the chosen error (the
/// chain of keys and list indices from `instance`), for pointing at YAML.
std::optional<std::string> validate_json_schema(const json& instance, const json& schema,
                                                std::vector<std::string>* path_out = nullptr);

/// All errors jsonschema's iter_errors() yields, in its order.
std::vector<schema_error> iter_schema_errors(const json& instance, const json& schema);

/// True when `instance` is valid under `schema`.
bool schema_is_valid(const json& instance, const json& schema);

} // namespace mistral::dsl

#pragma once

// WSME body checks shared by the trigger and dynamic-action controllers.

#include "api/http_types.hpp"
#include "common/error.hpp"
#include "common/json.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mistral::api {

/// A `types.jsontype` value as responses carry it: a JSON-encoded string, or null.
json json_string_field(const json& v);

/// WSME's "Unknown attribute for argument <argument>: <key>" for a body key
/// that is not one of the resource's `fields`.
std::optional<error> check_body_attributes(const json& body, const std::vector<std::string>& fields,
                                           const std::string& argument);

/// An optional `IntegerType(minimum=1)` attribute: nullopt when absent or
/// null; WSME's 400 texts for a value below 1 or not a number.
result<std::optional<std::int64_t>> positive_int_field(const json& body, const std::string& key,
                                                       const std::string& argument);

/// The `scope` attribute (SCOPE_TYPES): "private" when absent; 400 for
/// another value.
result<std::string> scope_field(const http_request& req, const json& body);

/// WSME's answer to a JSON body that is not an object: 500 "'list' object
/// has no attribute 'keys'" (the Python type name of the value).
error body_not_a_dict(const json& body);

/// True when the query flag `name` is true ("true", "True", "1").
bool flag_set(const http_request& req, const std::string& name);

} // namespace mistral::api

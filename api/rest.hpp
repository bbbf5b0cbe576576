#pragma once

// Shared pieces of the v2 controllers: Mistral's two error bodies, status
// codes, JSON responses and resource field helpers.

#include "api/http_types.hpp"
#include "common/error.hpp"
#include "common/json.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mistral::api {

/// The project every resource belongs to while authentication is off.
inline constexpr const char* default_project = "<default-project>";

/// The HTTP status Mistral gives an error of this category.
int http_status(errc code) noexcept;

/// A JSON response with Python's json.dumps formatting.
http_response json_response(int status, const json& body);

/// WSME endpoints' error: {"faultcode": "Client"|"Server", "faultstring": .., "debuginfo": null}.
http_response wsme_fault(int status, const std::string& message);
http_response wsme_fault(const error& e);

/// Definition endpoints' (pecan) error: {"faultstring": ..}.
http_response pecan_fault(int status, const std::string& message);
http_response pecan_fault(const error& e);

/// A stored microsecond time as Mistral prints it, or null.
json time_field(const json& micros);

/// Parses a JSON body; a malformed one is Mistral's 400 error text.
result<json> parse_json_body(const std::string& body);

/// A `types.jsontype` field from a request: an object/array/value as is, or
/// a JSON-encoded string decoded (python-mistralclient sends strings).
result<json> json_type_field(const json& value, const std::string& field);

/// WSME's check of a text attribute of a request body: nothing when `field`
/// is absent, null or a string, else "Invalid input for field/attribute X.
/// Value: '...'. Wrong type. Expected '<class 'str'>', got '<class 'dict'>'".
std::optional<error> text_field_error(const json& body, const std::string& field);

/// True when the request asks for admin rights (auth off: header X-Roles: admin).
bool is_admin(const http_request& req);

} // namespace mistral::api

#include "api/rest.hpp"

#include "common/clock.hpp"
#include "common/py_json.hpp"
#include "dsl/expr/py_value.hpp"

namespace mistral::api {

int http_status(errc code) noexcept {
  switch (code) {
    case errc::invalid_input: return 400;
    case errc::invalid_state: return 400;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::forbidden: return 403;
    case errc::not_acceptable: return 406;
    case errc::internal: return 500;
    case errc::unavailable: return 503;
    case errc::timeout: return 504;
  }
  return 500;
}

http_response json_response(int status, const json& body) {
  http_response r;
  r.status = status;
  r.body = python_json_dumps(body);
  return r;
}

http_response wsme_fault(int status, const std::string& message) {
  json body = json::object();
  body["faultcode"] = status < 500 ? "Client" : "Server";
  body["faultstring"] = message;
  body["debuginfo"] = nullptr;
  return json_response(status, body);
}

http_response wsme_fault(const error& e) {
  return wsme_fault(http_status(e.code), e.message);
}

http_response pecan_fault(int status, const std::string& message) {
  return json_response(status, json{{"faultstring", message}});
}

http_response pecan_fault(const error& e) {
  return pecan_fault(http_status(e.code), e.message);
}

json time_field(const json& micros) {
  if (!micros.is_number())
    return nullptr;
  return format_time(micros.get<timestamp>());
}

result<json> parse_json_body(const std::string& body) {
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded())
    return error(errc::invalid_input, "Request is not in valid JSON format");
  return parsed;
}

result<json> json_type_field(const json& value, const std::string& field) {
  if (!value.is_string())
    return value;
  auto parsed = json::parse(value.get<std::string>(), nullptr, false);
  if (parsed.is_discarded())
    return error(errc::invalid_input, "Invalid input for field/attribute " + field + ". Value: '" +
                                        value.get<std::string>() + "'. Value is not JSON-serializable.");
  return parsed;
}

bool is_admin(const http_request& req) {
  auto roles = req.header("x-roles");
  return roles && roles->find("admin") != std::string::npos;
}

std::optional<error> text_field_error(const json& body, const std::string& field) {
  if (!body.is_object() || !body.contains(field))
    return std::nullopt;
  const json& v = body[field];
  if (v.is_null() || v.is_string())
    return std::nullopt;
  const char* type = v.is_boolean()          ? "bool"
                     : v.is_number_integer() ? "int"
                     : v.is_number()         ? "float"
                     : v.is_array()          ? "list"
                                             : "dict";
  return error(errc::invalid_input,
               "Invalid input for field/attribute " + field + ". Value: '" + expr::py_str(v) +
                 "'. Wrong type. Expected '<class 'str'>', got '<class '" + type + "'>'");
}

} // namespace mistral::api

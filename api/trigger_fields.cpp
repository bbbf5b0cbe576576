#include "api/trigger_fields.hpp"

#include "common/py_json.hpp"
#include "dsl/py_repr.hpp"

#include <algorithm>

namespace mistral::api {

json json_string_field(const json& v) {
  return v.is_null() ? json(nullptr) : json(python_json_dumps(v));
}

std::optional<error> check_body_attributes(const json& body, const std::vector<std::string>& fields,
                                           const std::string& argument) {
  for (auto it = body.begin(); it != body.end(); ++it)
    if (std::find(fields.begin(), fields.end(), it.key()) == fields.end())
      return error(errc::invalid_input, "Unknown attribute for argument " + argument + ": " + it.key());
  return std::nullopt;
}

result<std::optional<std::int64_t>> positive_int_field(const json& body, const std::string& key,
                                                       const std::string& argument) {
  if (!body.contains(key) || body[key].is_null())
    return std::optional<std::int64_t>{};
  const json& v = body[key];
  std::optional<std::int64_t> n;
  if (v.is_number_integer())
    n = v.get<std::int64_t>();
  else if (v.is_number_float())
    n = static_cast<std::int64_t>(v.get<double>());
  else if (v.is_boolean())
    n = v.get<bool>() ? 1 : 0;
  else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    try {
      std::size_t used = 0;
      n = std::stoll(s, &used);
      if (used != s.size())
        n.reset();
    } catch (...) {
      n.reset();
    }
    if (!n)
      return error(errc::invalid_input, "Invalid input for field/attribute " + argument + ". Value: '" +
                                          dsl::py_repr(body) +
                                          "'. invalid literal for int() with base 10: '" + s + "'");
  }
  if (!n)
    return error(errc::invalid_input, "Invalid input for field/attribute " + key + ". Value: '" + v.dump() +
                                        "'. Wrong type. Expected 'int', got '" +
                                        (v.is_array()    ? "list"
                                         : v.is_object() ? "dict"
                                                         : "str") +
                                        "'");
  if (*n < 1)
    return error(errc::invalid_input, "Invalid input for field/attribute " + key + ". Value: '" +
                                        std::to_string(*n) + "'. Value should be greater or equal to 1");
  return n;
}

result<std::string> scope_field(const http_request&, const json& body) {
  if (!body.contains("scope") || body["scope"].is_null())
    return std::string("private");
  const json& s = body["scope"];
  if (!s.is_string() || (s != "private" && s != "public"))
    return error(errc::invalid_input, "Invalid input for field/attribute scope. Value: '" +
                                        (s.is_string() ? s.get<std::string>() : s.dump()) +
                                        "'. Value should be one of: public, private");
  return s.get<std::string>();
}

error body_not_a_dict(const json& body) {
  std::string type = body.is_array()            ? "list"
                     : body.is_string()         ? "str"
                     : body.is_boolean()        ? "bool"
                     : body.is_number_integer() ? "int"
                     : body.is_number()         ? "float"
                                                : "NoneType";
  return error(errc::internal, "'" + type + "' object has no attribute 'keys'");
}

bool flag_set(const http_request& req, const std::string& name) {
  auto v = req.query_value(name);
  return v && (*v == "true" || *v == "True" || *v == "1");
}

} // namespace mistral::api

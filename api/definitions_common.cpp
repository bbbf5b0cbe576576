#include "api/definitions_common.hpp"

#include "api/rest.hpp"
#include "common/py_json.hpp"
#include "dsl/expr/py_value.hpp"

#include <cctype>

namespace mistral::api {

bool refuses_text_plain(const http_request& req) {
  auto accept = req.header("accept");
  if (!accept || accept->empty())
    return false;
  std::string a = *accept;
  for (auto& c : a)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return a.find("*/*") == std::string::npos && a.find("text/*") == std::string::npos &&
         a.find("text/plain") == std::string::npos;
}

http_response not_acceptable(const http_request& req) {
  std::string accept = req.header("accept").value_or("");
  if (accept.find("json") == std::string::npos) {
    // Pecan fails rendering for other types (text/html, XML): an empty 500.
    http_response r;
    r.status = 500;
    r.content_type = "text/plain";
    return r;
  }
  return json_response(406, json{{"code", 406}, {"title", "Not Acceptable"}, {"description", nullptr}});
}

http_response no_content() {
  http_response r;
  r.status = 204;
  return r;
}

std::string query_or(const http_request& req, const std::string& name, const std::string& fallback) {
  auto v = req.query_value(name);
  return v ? *v : fallback;
}

bool validation_wanted(const api_context& ctx, const http_request& req) {
  std::string mode = ctx.cfg ? ctx.cfg->get_string("api", "validation_mode", "mandatory") : "mandatory";
  if (mode == "disabled")
    return false;
  if (mode == "enabled")
    return !req.query_value("skip_validation").has_value();
  return true;
}

result<std::string> requested_scope(const http_request& req) {
  std::string scope = query_or(req, "scope", "private");
  if (scope != "private" && scope != "public")
    return error(errc::invalid_input,
                 "Scope must be one of the following: {'private', 'public'}; actual: " + scope,
                 "InvalidModelException");
  if (scope == "public" && !is_admin(req))
    return error(errc::forbidden, "Operation forbidden (insufficient permissions)");
  return scope;
}

std::string workflow_input_text(const json& input_list) {
  std::string out;
  if (!input_list.is_array())
    return out;
  for (const auto& p : input_list) {
    std::vector<std::string> parts;
    if (p.is_object()) {
      for (auto it = p.begin(); it != p.end(); ++it)
        parts.push_back(it.key() + "=\"" + expr::py_str(it.value()) + "\"");
    } else {
      parts.push_back(p.is_string() ? p.get<std::string>() : expr::py_str(p));
    }
    for (auto& s : parts)
      out += (out.empty() ? "" : ", ") + s;
  }
  return out;
}

json action_input_text(const json& input_list) {
  std::string out;
  if (!input_list.is_array())
    return nullptr;
  bool any = false;
  for (const auto& p : input_list) {
    if (p.is_object()) {
      for (auto it = p.begin(); it != p.end(); ++it) {
        out += (any ? ", " : "") + it.key() + "=" + python_json_dumps(it.value());
        any = true;
      }
    } else {
      out += (any ? ", " : "") + (p.is_string() ? p.get<std::string>() : expr::py_str(p));
      any = true;
    }
  }
  return any ? json(out) : json(nullptr);
}

json workflow_interface(const json& spec) {
  json out = json::object();
  out["input"] = spec.is_object() && spec.contains("input") ? spec["input"] : json::array();
  json outputs = json::array();
  if (spec.is_object() && spec.contains("output") && spec["output"].is_object())
    for (auto it = spec["output"].begin(); it != spec["output"].end(); ++it)
      outputs.push_back(it.key());
  out["output"] = outputs;
  return out;
}

namespace {

std::string strip(const std::string& s) {
  static const char* ws = " \t\r\n\f\v";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos)
    return "";
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string lstrip(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n\f\v");
  return b == std::string::npos ? "" : s.substr(b);
}

std::string rstrip(const std::string& s) {
  auto e = s.find_last_not_of(" \t\r\n\f\v");
  return e == std::string::npos ? "" : s.substr(0, e + 1);
}

// Lines with their '\n', as Python's StringIO iterates them.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    std::size_t end = nl == std::string::npos ? text.size() : nl + 1;
    out.push_back(text.substr(start, end - start));
    start = end;
  }
  return out;
}

} // namespace

std::string cut_workbook_item(const std::string& wb_definition, const std::string& section,
                              const std::string& item) {
  auto at = wb_definition.find(section);
  if (at == std::string::npos)
    return "\n";
  auto lines = lines_of(wb_definition.substr(at));
  std::string name = item + ":";
  std::string out;
  std::size_t i = 1; // the section line itself is skipped
  std::size_t ident = 0;
  for (; i < lines.size(); ++i) {
    if (strip(lines[i]) == name) {
      ident = lines[i].find(name);
      out += lstrip(lines[i]);
      ++i;
      break;
    }
  }
  for (; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    std::string stripped = strip(line);
    if (stripped.empty()) {
      out += line;
    } else if (stripped[0] == '#') {
      auto hash = line.find('#');
      out += ident > hash ? line : line.substr(ident);
    } else {
      auto temp = line.find(lstrip(line));
      if (ident < temp)
        out += line.substr(ident);
      else
        break;
    }
  }
  return rstrip(out) + "\n";
}

bool changes_row(const persistence::record& row, const persistence::record& changes) {
  for (auto it = changes.begin(); it != changes.end(); ++it)
    if (!row.contains(it.key()) || row[it.key()] != it.value())
      return true;
  return false;
}

http_response listing_fault(const error& e) {
  static const std::string prefix = "Unknown sort key: ";
  if (e.message.rfind(prefix, 0) == 0)
    return wsme_fault(500, "Sort key supplied is invalid: " + e.message.substr(prefix.size()));
  return wsme_fault(e);
}

std::string dsl_message(const error& e) {
  const std::string& m = e.message;
  if (m.rfind("Invalid DSL:", 0) == 0)
    return m;
  auto at = m.rfind("\n  at line ");
  if (at == std::string::npos || m.find('\n', at + 1) != std::string::npos)
    return m;
  return m.substr(0, at);
}

http_response dsl_fault(const error& e) {
  return pecan_fault(http_status(e.code), dsl_message(e));
}

std::optional<http_response> invalid_marker(const http_request& req) {
  auto marker = req.query_value("marker");
  if (!marker || uuid_like(*marker))
    return std::nullopt;
  return wsme_fault(400, "Invalid input for field/attribute marker. Value: '" + *marker +
                           "'. unable to convert to uuid. Error: Expected a uuid but received " + *marker +
                           ".");
}

bool uuid_like(const std::string& text) {
  std::string s = text;
  if (s.rfind("urn:", 0) == 0)
    s = s.substr(4);
  if (s.rfind("uuid:", 0) == 0)
    s = s.substr(5);
  std::string hex;
  for (char c : s) {
    if (c == '{' || c == '}' || c == '-')
      continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return false;
    hex += c;
  }
  return hex.size() == 32;
}

json text_or_null(const json& v) {
  return v.is_null() ? json(nullptr) : v;
}

} // namespace mistral::api

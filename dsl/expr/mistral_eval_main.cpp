// mistral-eval: evaluates Mistral expressions read as JSON lines on stdin,
// {"expr": "...", "context": {...}}, answering one flushed JSON line each:
// {"value": v} or {"error": "ClassName", "message": "..."}. A request with
// "mode": "validate" runs Mistral's grammar check (validate()) instead.

#include "dsl/expr/expression.hpp"

#include <iostream>
#include <string>

namespace {

std::string dump(const mistral::json& j) {
  return j.dump(-1, ' ', false, mistral::json::error_handler_t::replace);
}

std::string answer(const std::string& line) {
  using mistral::json;
  json req;
  try {
    req = json::parse(line);
  } catch (const std::exception& e) {
    return dump(json{{"error", "InvalidInput"}, {"message", std::string("malformed request: ") + e.what()}});
  }
  if (!req.is_object() || !req.contains("expr") || !req["expr"].is_string())
    return dump(json{{"error", "InvalidInput"}, {"message", "request needs a string \"expr\""}});
  if (req.value("mode", "") == "validate") {
    // Mistral's spec-time grammar check instead of an evaluation.
    auto err = mistral::expr::validate(req["expr"].get<std::string>());
    if (!err)
      return json{{"value", nullptr}}.dump();
    return json{{"error", err->kind}, {"message", err->message}}.dump(-1, ' ', false,
                                                                      json::error_handler_t::replace);
  }
  json context = req.contains("context") ? req["context"] : json::object();
  mistral::expr::eval_env env{mistral::expr::data_view(context), nullptr, {}};
  auto r = mistral::expr::evaluate(req["expr"].get<std::string>(), env);
  if (r.ok())
    return json{{"value", *r}}.dump(-1, ' ', false, json::error_handler_t::replace);
  return json{{"error", r.err().kind.empty() ? "Error" : r.err().kind}, {"message", r.err().message}}.dump(
    -1, ' ', false, json::error_handler_t::replace);
}

} // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    std::string out;
    try {
      out = answer(line);
    } catch (const std::exception& e) {
      // Whatever happens, the protocol stays one answer per request line.
      out = dump(mistral::json{{"error", "InternalError"}, {"message", e.what()}});
    }
    std::cout << out << '\n' << std::flush;
  }
  return 0;
}

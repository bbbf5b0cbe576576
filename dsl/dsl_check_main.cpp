// mistral-dsl-check: grades the DSL validator against a corpus of Mistral's
// verdicts (conformance/workflows/*/dsl/cases.jsonl).
//
//   mistral-dsl-check [--quiet] [--only id,...] [cases.jsonl]
//
// Prints PASS/FAIL per case (verdict), the error-text agreement among cases
// both sides find invalid (first line, UUIDs normalised), then
// "N passed, N failed". Exit status 0 only when every verdict matches.

#include "common/json.hpp"
#include "dsl/parser.hpp"

#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

std::string first_line_normalised(const std::string& s) {
  static const std::regex uuid("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  std::string line = s.substr(0, s.find('\n'));
  return std::regex_replace(line, uuid, "<id>");
}

std::optional<std::string> run(const std::string& endpoint, const std::string& text) {
  using namespace mistral::dsl;
  if (endpoint == "workbooks") {
    auto r = validate_workbook(text);
    return r ? std::nullopt : std::optional(r.err().message);
  }
  if (endpoint == "actions") {
    auto r = validate_actions(text);
    return r ? std::nullopt : std::optional(r.err().message);
  }
  auto r = validate_workflows(text);
  return r ? std::nullopt : std::optional(r.err().message);
}

} // namespace

int main(int argc, char** argv) {
  std::string path = "/work/shared/conformance/workflows/public/dsl/cases.jsonl";
  bool quiet = false;
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quiet") {
      quiet = true;
    } else if (a == "--only" && i + 1 < argc) {
      std::stringstream ss(argv[++i]);
      for (std::string id; std::getline(ss, id, ',');)
        only.insert(id);
    } else {
      path = a;
    }
  }
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    return 2;
  }
  int passed = 0, failed = 0, text_total = 0, text_agree = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty())
      continue;
    auto c = mistral::json::parse(line);
    std::string id = c["id"].get<std::string>();
    if (!only.empty() && !only.count(id))
      continue;
    bool expected_valid = c["expected_valid"].get<bool>();
    auto err = run(c["endpoint"].get<std::string>(), c["text"].get<std::string>());
    bool ok = expected_valid == !err.has_value();
    std::string exp_err = c["expected_error"].is_string() ? c["expected_error"].get<std::string>() : "";
    bool text_ok = true;
    if (!expected_valid && err) {
      ++text_total;
      text_ok = first_line_normalised(exp_err) == first_line_normalised(*err);
      text_agree += text_ok;
    }
    ok ? ++passed : ++failed;
    if (!ok || !quiet || !text_ok) {
      std::cout << (ok ? "PASS " : "FAIL ") << id << (text_ok ? "" : " (error text differs)") << "\n";
      if (!ok || !text_ok) {
        std::cout << "    expected: " << (expected_valid ? "valid" : first_line_normalised(exp_err)) << "\n";
        std::cout << "    actual:   " << (err ? first_line_normalised(*err) : "valid") << "\n";
      }
    }
  }
  std::cout << "DSL verdict agreement: " << passed << "/" << (passed + failed) << "\n";
  std::cout << "DSL error-text agreement (normalised first line, among cases both find invalid): "
            << text_agree << "/" << text_total << "\n";
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

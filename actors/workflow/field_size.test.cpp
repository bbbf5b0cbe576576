#include "actors/workflow/field_size.hpp"

#include <doctest/doctest.h>

using namespace mistral;
using namespace mistral::engine;

TEST_CASE("sizes are measured as Python's sys.getsizeof of str(value), in whole KB") {
  // {'x': 'AAA...'}: 9 characters around the string, 49 bytes of header.
  CHECK(python_size_kb(json{{"x", std::string(1100 * 1024, 'A')}}) == 1100);
  CHECK(python_size_kb(json(std::string(1024 - 49, 'A'))) == 1);
  CHECK(python_size_kb(json(std::string(1024 - 50, 'A'))) == 0);
  // One non-ASCII character widens the whole string (PEP 393).
  CHECK(python_size_kb(json("\xc3\xa9" + std::string(1024 - 74, 'A'))) == 1);
  CHECK(python_size_kb(json("\xe2\x82\xac" + std::string(512, 'A'))) == 1);     // 74 + 2 * 513
  CHECK(python_size_kb(json("\xf0\x9f\x98\x80" + std::string(255, 'A'))) == 1); // 76 + 4 * 256
}

TEST_CASE("a field over the limit gets Mistral's exact message, a negative limit none") {
  json big = {{"x", std::string(1100 * 1024, 'A')}};
  CHECK(field_size_error("input", big, 1024) ==
        "Field size limit exceeded [class=TaskExecution, field=input, size=1100KB, limit=1024KB]");
  CHECK_FALSE(field_size_error("input", big, 1100).has_value());
  CHECK_FALSE(field_size_error("input", big, -1).has_value());
  CHECK(field_size_error("published", json{{"p", std::string(1024, 'A')}}, 0) ==
        "Field size limit exceeded [class=TaskExecution, field=published, size=1KB, limit=0KB]");
  // Empty values are not checked (Python's `if value:`).
  CHECK_FALSE(field_size_error("output", json::object(), 0).has_value());
}

TEST_CASE("texts are cut as mistral_lib's cut_string, by code points") {
  CHECK(cut_text("abcdef", 3) == "abc...");
  CHECK(cut_text("abc", 3) == "abc");
  CHECK(cut_text("abc", -1) == "abc");
  CHECK(cut_text("abc", 0) == "...");
  CHECK(cut_text("", 0).empty());
  CHECK(cut_text("\xc3\xa9\xc3\xa9\xc3\xa9", 2) == "\xc3\xa9\xc3\xa9...");
  CHECK(cut_state_info(std::string(70000, 'A')).size() == 65503);
  CHECK(cut_state_info(std::string(65500, 'A')).size() == 65500);
  CHECK(cut_text_by_kb(std::string(2000, 'A'), 1).size() == 1027);
  CHECK(cut_text_by_kb("abc", 0) == "...");
  CHECK(cut_text_by_kb("abc", -1) == "abc");
}

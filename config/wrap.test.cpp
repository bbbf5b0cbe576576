#include "config/wrap.hpp"

#include <doctest/doctest.h>

using mistral::config::wrap;
using lines = std::vector<std::string>;

TEST_CASE("wrap fills lines up to the width with the indent") {
  CHECK(wrap("aaa bbb ccc", 9, "# ") == lines{"# aaa bbb", "# ccc"});
  CHECK(wrap("", 80, "# ").empty());
  CHECK(wrap("   ", 80, "# ").empty());
}

TEST_CASE("wrap does not break long words") {
  CHECK(wrap("x http://a.very.long/url/that/does/not/fit y", 12, "# ") ==
        lines{"# x", "# http://a.very.long/url/that/does/not/fit", "# y"});
}

TEST_CASE("wrap may break after a hyphen between letters like textwrap") {
  CHECK(wrap("valid options: keystone, keycloak-oidc", 36, "# ") ==
        lines{"# valid options: keystone, keycloak-", "# oidc"});
  // "X-A": one letter before the hyphen does not allow a break there.
  CHECK(wrap("aa X-Auth", 6, "# ") == lines{"# aa", "# X-Auth"});
  // Expected values from Python's textwrap.
  CHECK(wrap("a well-known x-y ab-cd-ef foo--bar", 12, "# ") ==
        lines{"# a well-", "# known x-y", "# ab-cd-ef", "# foo--bar"});
}

TEST_CASE("wrap keeps inner double spaces and drops spaces at line starts") {
  CHECK(wrap("a  b", 80, "# ") == lines{"# a  b"});
  CHECK(wrap("aaaa    bbbb", 8, "# ") == lines{"# aaaa", "# bbbb"});
}

#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mistral::config {

/// Wraps one line of text like Python's textwrap.wrap(text, width,
/// initial_indent=indent, subsequent_indent=indent, break_long_words=False,
/// replace_whitespace=False), which oslo-config-generator uses for help text:
/// words may also break after a hyphen between letters ("keycloak-" "oidc").
/// Returns no lines for blank text.
std::vector<std::string> wrap(std::string_view text, std::size_t width, const std::string& indent);

} // namespace mistral::config

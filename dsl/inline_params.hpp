#pragma once

// Mistral's little text grammars inside DSL strings: "std.echo output=x"
// (lang/base.py::_parse_cmd_and_input), "x in <% $.list %>" (with-items),
// with every regex quirk kept (unquoted words, URLs, dicts and negative
// numbers are dropped; 1.5 becomes 1; "true" matches a prefix).

#include "common/error.hpp"
#include "common/json.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace mistral::dsl {

/// A command with its inline parameters: "std.echo output='x'" ->
/// {"std.echo", {"output": "x"}}.
struct command_call {
  std::string command;
  json params = json::object();
};

/// Mistral's _parse_cmd_and_input. A string without a space is the command
/// itself. Fails with "Invalid action/workflow task property: <text>" when no
/// command can be found at the start.
result<command_call> parse_command(std::string_view text);

/// One with-items entry: "x in <% $.xs %>" -> {"x", "<% $.xs %>"}.
struct with_items_match {
  std::string var;
  std::string collection; ///< "[...]" JSON text or an expression
};

/// Matches WITH_ITEMS_PTRN at the start of `text` (Python's re.match).
std::optional<with_items_match> match_with_items(std::string_view text);

} // namespace mistral::dsl

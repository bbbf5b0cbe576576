#pragma once

// YAML text -> JSON the way Mistral reads definitions: PyYAML's safe_load
// (YAML 1.1 implicit typing, merge keys, last duplicate key wins), on top of
// yaml-cpp, which only tokenises and builds an untyped tree.

#include "common/error.hpp"
#include "common/json.hpp"

#include <string>
#include <string_view>
#include <unordered_map>

namespace mistral::dsl {

/// A position in the YAML text, 1-based as editors and PyYAML show it.
struct yaml_mark {
  int line = 0;
  int column = 0;
};

/// A loaded YAML document: the value and where each node came from.
///
/// `marks` is keyed by the node's path as a JSON pointer ("" is the root,
/// "/wf/tasks/t1" a mapping entry, "/wf/input/0" a list item). For a
/// mapping entry the mark is the key's position, so errors point at keys.
struct loaded_yaml {
  json value;
  std::unordered_map<std::string, yaml_mark> marks;
  /// True when some scalar is a YAML timestamp (kept as a binary value, see
  /// dsl/py_repr.hpp).
  bool has_timestamps = false;

  /// The mark of `pointer` or of its nearest ancestor that has one.
  yaml_mark find_mark(std::string pointer) const;
};

/// Loads `text` as PyYAML's safe_load does and Mistral's parse_yaml wraps it:
/// an empty document is `{}`. On a YAML error the message is Mistral's
/// DSLParsingException text: "Definition could not be parsed: <PyYAML's
/// wording>" followed by PyYAML-style position lines.
result<loaded_yaml> load_yaml(std::string_view text);

/// Escapes one key for use inside a JSON pointer ("~" -> "~0", "/" -> "~1").
std::string pointer_escape(std::string_view key);

} // namespace mistral::dsl

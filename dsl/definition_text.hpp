#pragma once

// Definition texts Mistral derives from an uploaded document: the text of one
// workflow of a multi-workflow document (PyYAML's safe_dump of
// {version, name: body}) and the text of one item of a workbook (a slice of
// the workbook text, lang/parser.py::_parse_def_from_wb).

#include "common/json.hpp"

#include <string>
#include <string_view>

namespace mistral::dsl {

/// PyYAML's yaml.safe_dump(value, sort_keys=False): block style, 2-space
/// indentation, sequences not indented under their key, PyYAML's choice of
/// plain / single-quoted / double-quoted scalars and its folding at 80 columns.
std::string dump_yaml(const json& value);

/// The definition Mistral stores for workflow `name` of a document holding
/// several workflows: safe_dump({'version': doc['version'], name: doc[name]}).
/// `doc` is the document as loaded (load_yaml), not a validated spec.
std::string workflow_definition_from_list(const json& doc, const std::string& name);

/// The definition Mistral stores for item `name` of a workbook section
/// ("workflows" or "actions"): the item's lines cut out of the workbook text
/// and de-indented. Empty when the section is missing.
std::string workbook_item_definition(std::string_view workbook_text, std::string_view section,
                                     std::string_view name);

} // namespace mistral::dsl

#pragma once

// PyYAML's safe_dump(data, sort_keys=False) with its defaults (block style,
// indent 2, width 80, no unicode): what Mistral stores as the definition of
// each workflow of a multi-workflow document (_cut_wf_definition_from_all).

#include "common/json.hpp"

#include <string>

namespace mistral::api {

/// The YAML text PyYAML's safe_dump(data, sort_keys=False) writes for `data`.
std::string py_yaml_dump(const json& data);

} // namespace mistral::api

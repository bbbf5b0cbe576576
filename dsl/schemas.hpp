#pragma once

// Mistral's JSON schemas (mistral/lang/**), exactly as get_schema() builds
// them, key order included: jsonschema reports the first most relevant
// error, so the order of keywords decides which message users see.

#include "common/json.hpp"

namespace mistral::dsl::schemas {

const json& workflow_list(); ///< WorkflowListSpec: the POST /v2/workflows document
const json& action_list();   ///< ActionListSpec: the POST /v2/actions document
const json& workbook();      ///< WorkbookSpec
const json& action();        ///< ActionSpec (one ad-hoc action)
const json& workflow();      ///< DirectWorkflowSpec / ReverseWorkflowSpec (identical)
const json& direct_task();   ///< DirectWorkflowTaskSpec
const json& reverse_task();  ///< ReverseWorkflowTaskSpec
const json& task_defaults(); ///< TaskDefaultsSpec
const json& policies();      ///< PoliciesSpec
const json& retry();         ///< RetrySpec
const json& on_clause();     ///< OnClauseSpec
const json& publish();       ///< PublishSpec

} // namespace mistral::dsl::schemas

#pragma once

// How a root execution is asked for, shared by POST /v2/executions and the
// cron scheduler: the workflow definition is resolved, the input and params
// are checked as Mistral's start_workflow does, and the engine's
// start_execution message is built.

#include "actors/protocol.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "persistence/database.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace mistral::engine {

/// A request to start a root workflow execution.
struct start_request {
  std::string workflow_id;   ///< wins over the name when set
  std::string workflow_name; ///< looked up in `workflow_namespace`, then in the default one
  std::string workflow_namespace;
  json input = json::object();
  json params = json::object(); ///< `env` may name a stored environment
  std::string description;
  std::string execution_id; ///< empty: a new UUID
  /// [engine] execution_field_size_limit_kb for the input and params; -1: unchecked.
  std::int64_t field_size_limit_kb = -1;
};

/// Builds the start_execution for `req`. Errors carry Mistral's texts:
/// errc::not_found "Workflow not found [workflow_identifier=x, namespace=y]",
/// errc::invalid_input for a bad spec, missing or unexpected input, an
/// unknown reverse-workflow target task, a bad env or an input or params
/// over the field size limit.
result<actors::start_execution> build_start_execution(const std::shared_ptr<persistence::database>& db,
                                                      const start_request& req);

} // namespace mistral::engine

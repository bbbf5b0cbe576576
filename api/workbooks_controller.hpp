#pragma once

#include "api/api_context.hpp"
#include "api/router.hpp"

#include <memory>

namespace mistral::api {

/// /v2/workbooks: create, update, get, delete, list and validate workbooks.
/// A workbook stores its workflows and ad-hoc actions as `<wb>.<name>`.
void add_workbook_routes(router& r, std::shared_ptr<api_context> ctx);

} // namespace mistral::api

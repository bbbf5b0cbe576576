#pragma once

#include "api/router.hpp"

namespace mistral::api {

/// Adds Mistral's root routes: `GET /` (the versions document), `GET /v2/`
/// (the v2 root) and `GET /v2` (302 to `/v2/`), in Mistral's exact shapes.
void add_root_routes(router& r);

} // namespace mistral::api

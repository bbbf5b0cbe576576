#pragma once

#include "api/engine_client.hpp"

#include <caf/fwd.hpp>

namespace mistral::api {

/// The engine client over CAF: a short-lived actor per call does the request.
std::shared_ptr<engine_client> make_caf_engine_client(caf::actor_system& sys, caf::actor engine);

} // namespace mistral::api

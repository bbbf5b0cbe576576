#pragma once

// The actor protocol: every atom, message type and typed actor interface of
// the engine, in one place. Every type here has an inspect() so it can cross
// nodes over caf::io; both sides register the `mistral` type-ID block.

#include <caf/all.hpp>

#include <string>

CAF_BEGIN_TYPE_ID_BLOCK(mistral, caf::first_custom_type_id)
CAF_ADD_ATOM(mistral, mistral::actors, ping_atom, "ping")
CAF_END_TYPE_ID_BLOCK(mistral)

namespace mistral::actors {

/// The supervisor of one server role on one node.
///
/// - `ping` → the role's name ("api", "engine", ...): a liveness probe.
using role_actor = caf::typed_actor<caf::replies_to<ping_atom>::with<std::string>>;

} // namespace mistral::actors

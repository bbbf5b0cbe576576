#pragma once

#include "persistence/table.hpp"

namespace mistral::persistence {

/// engine_nodes (schema 0009): one row per engine incarnation (id
/// "<node_name>#<epoch>"): its last heartbeat.
const table_def& engine_nodes_table();
/// execution_leases: the owner (node, epoch) of each execution; `finished`
/// once the execution reached a final state.
const table_def& execution_leases_table();

} // namespace mistral::persistence

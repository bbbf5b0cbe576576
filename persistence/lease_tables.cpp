#include "persistence/lease_tables.hpp"

namespace mistral::persistence {

namespace {
using k = column_kind;
} // namespace

const table_def& engine_nodes_table() {
  static const table_def t{"engine_nodes",
                           {{"id", k::text},
                            {"node_name", k::text},
                            {"epoch", k::integer},
                            {"heartbeat_at", k::timestamp},
                            {"started_at", k::timestamp}}};
  return t;
}

const table_def& execution_leases_table() {
  static const table_def t{"execution_leases",
                           {{"id", k::text},
                            {"owner_node", k::text},
                            {"owner_epoch", k::integer},
                            {"finished", k::boolean},
                            {"claimed_at", k::timestamp}}};
  return t;
}

} // namespace mistral::persistence

-- Execution ownership for several engines over one store (DESIGN.md principle
-- 2, actors/engine/lease.hpp). Each engine process (an incarnation: node name
-- and epoch, the next epoch of its name at every start) writes its heartbeat
-- in its own engine_nodes row; each execution names its owner (node and
-- epoch) in its execution_leases row, so a heartbeat is one UPDATE per
-- engine, not one per execution.

CREATE TABLE engine_nodes (
  id VARCHAR(300) PRIMARY KEY,
  node_name VARCHAR(255) NOT NULL,
  epoch BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  started_at BIGINT NOT NULL
);
CREATE INDEX engine_nodes_name ON engine_nodes (node_name, epoch);

CREATE TABLE execution_leases (
  id VARCHAR(36) PRIMARY KEY,
  owner_node VARCHAR(255) NOT NULL,
  owner_epoch BIGINT NOT NULL,
  finished SMALLINT NOT NULL DEFAULT 0,
  claimed_at BIGINT
);
CREATE INDEX execution_leases_owner ON execution_leases (owner_node, finished, owner_epoch);

-- Unfinished executions of an older store belong to no node: the first
-- engine that scans takes them over.
INSERT INTO execution_leases (id, owner_node, owner_epoch, finished, claimed_at)
  SELECT id, '', 0, 0, created_at FROM workflow_executions_v2
  WHERE state NOT IN ('SUCCESS', 'ERROR', 'CANCELLED');

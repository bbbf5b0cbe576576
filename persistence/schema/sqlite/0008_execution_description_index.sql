-- Executions are listed by description (clients tag a batch of runs with one
-- and poll `GET /v2/executions?description=...`): without an index every poll
-- scanned the whole table.

CREATE INDEX workflow_executions_v2_description ON workflow_executions_v2 (description);

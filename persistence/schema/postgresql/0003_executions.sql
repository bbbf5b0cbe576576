-- Executions: workflow, task and action executions, and durable timers.

CREATE TABLE workflow_executions_v2 (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(255),
  workflow_name VARCHAR(255),
  workflow_id VARCHAR(80),
  workflow_namespace VARCHAR(255) NOT NULL DEFAULT '',
  description TEXT,
  tags TEXT,
  spec TEXT,
  state VARCHAR(20),
  state_info TEXT,
  input TEXT,
  output TEXT,
  params TEXT,
  context TEXT,
  runtime_context TEXT,
  task_execution_id VARCHAR(36),
  root_execution_id VARCHAR(36),
  project_id VARCHAR(80),
  created_at BIGINT NOT NULL,
  updated_at BIGINT
);
CREATE INDEX workflow_executions_v2_state ON workflow_executions_v2 (state);
CREATE INDEX workflow_executions_v2_task ON workflow_executions_v2 (task_execution_id);

CREATE TABLE task_executions_v2 (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(255),
  type VARCHAR(10),
  workflow_name VARCHAR(255),
  workflow_namespace VARCHAR(255) NOT NULL DEFAULT '',
  workflow_id VARCHAR(80),
  workflow_execution_id VARCHAR(36) NOT NULL,
  state VARCHAR(20),
  state_info TEXT,
  in_context TEXT,
  published TEXT,
  runtime_context TEXT,
  processed SMALLINT NOT NULL DEFAULT 0,
  error_handled SMALLINT NOT NULL DEFAULT 0,
  has_next_tasks SMALLINT NOT NULL DEFAULT 0,
  next_tasks TEXT,
  unique_key VARCHAR(255),
  executions TEXT,
  tags TEXT,
  project_id VARCHAR(80),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  started_at BIGINT,
  finished_at BIGINT
);
CREATE INDEX task_executions_v2_wf ON task_executions_v2 (workflow_execution_id);

CREATE TABLE action_executions_v2 (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(255),
  workflow_name VARCHAR(255),
  workflow_namespace VARCHAR(255) NOT NULL DEFAULT '',
  task_name VARCHAR(255),
  task_execution_id VARCHAR(36),
  workflow_execution_id VARCHAR(36),
  state VARCHAR(20),
  state_info TEXT,
  accepted SMALLINT NOT NULL DEFAULT 1,
  is_workflow SMALLINT NOT NULL DEFAULT 0,
  is_sync SMALLINT NOT NULL DEFAULT 1,
  input TEXT,
  output TEXT,
  params TEXT,
  idx BIGINT NOT NULL DEFAULT 0,
  description TEXT,
  tags TEXT,
  project_id VARCHAR(80),
  created_at BIGINT NOT NULL,
  updated_at BIGINT
);
CREATE INDEX action_executions_v2_task ON action_executions_v2 (task_execution_id);
CREATE INDEX action_executions_v2_wf ON action_executions_v2 (workflow_execution_id);

CREATE TABLE delayed_calls_v2 (
  id VARCHAR(80) PRIMARY KEY,
  workflow_execution_id VARCHAR(36) NOT NULL,
  task_execution_id VARCHAR(36),
  kind VARCHAR(20) NOT NULL,
  fire_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX delayed_calls_v2_fire ON delayed_calls_v2 (fire_at);

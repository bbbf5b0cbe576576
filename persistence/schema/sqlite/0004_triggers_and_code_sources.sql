-- Cron and event triggers, code sources and dynamic actions.
-- Times are BIGINT microseconds since the epoch (UTC); JSON is TEXT.

CREATE TABLE cron_triggers_v2 (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  pattern VARCHAR(100),
  first_execution_time BIGINT,
  next_execution_time BIGINT NOT NULL,
  workflow_name VARCHAR(255),
  workflow_id VARCHAR(36),
  workflow_input TEXT,
  workflow_input_hash VARCHAR(64),
  workflow_params TEXT,
  workflow_params_hash VARCHAR(64),
  remaining_executions BIGINT,
  scope VARCHAR(80),
  project_id VARCHAR(80),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  UNIQUE (name, project_id),
  -- Mistral refuses a second trigger with the same schedule, workflow, input and params.
  UNIQUE (workflow_input_hash, workflow_name, pattern, project_id, workflow_params_hash, remaining_executions,
          first_execution_time)
);
CREATE INDEX cron_triggers_v2_next_execution_time ON cron_triggers_v2 (next_execution_time);
CREATE INDEX cron_triggers_v2_workflow_id ON cron_triggers_v2 (workflow_id);

CREATE TABLE event_triggers_v2 (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(200),
  workflow_id VARCHAR(36) NOT NULL,
  workflow_input TEXT,
  workflow_params TEXT,
  exchange VARCHAR(80) NOT NULL,
  topic VARCHAR(80) NOT NULL,
  event VARCHAR(80) NOT NULL,
  scope VARCHAR(80),
  project_id VARCHAR(80),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  UNIQUE (exchange, topic, event, workflow_id, project_id)
);
CREATE INDEX event_triggers_v2_workflow_id ON event_triggers_v2 (workflow_id);

CREATE TABLE code_sources (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL DEFAULT '',
  content TEXT,
  version BIGINT NOT NULL DEFAULT 1,
  tags TEXT,
  scope VARCHAR(80),
  project_id VARCHAR(80),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  UNIQUE (name, namespace, project_id)
);

CREATE TABLE dynamic_action_definitions (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL DEFAULT '',
  class_name VARCHAR(255),
  code_source_id VARCHAR(36) NOT NULL REFERENCES code_sources (id) ON DELETE CASCADE,
  code_source_name VARCHAR(255),
  scope VARCHAR(80),
  project_id VARCHAR(80),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  UNIQUE (name, namespace, project_id)
);

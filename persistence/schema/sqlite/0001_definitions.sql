-- Definitions: workbooks, workflows, ad-hoc actions and environments.
-- Times are BIGINT microseconds since the epoch (UTC); JSON is TEXT;
-- booleans are SMALLINT 0/1 (SOCI 4.0 has no bool type).

CREATE TABLE workbooks_v2 (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL DEFAULT '',
  definition TEXT,
  spec TEXT,
  tags TEXT,
  scope VARCHAR(80),
  project_id VARCHAR(80),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  UNIQUE (name, namespace, project_id)
);

CREATE TABLE workflow_definitions_v2 (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL DEFAULT '',
  definition TEXT,
  spec TEXT,
  input TEXT,
  tags TEXT,
  scope VARCHAR(80),
  project_id VARCHAR(80),
  is_system SMALLINT NOT NULL DEFAULT 0,
  workbook_name VARCHAR(255),
  checksum VARCHAR(64),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  UNIQUE (name, namespace, project_id)
);

CREATE TABLE action_definitions_v2 (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL DEFAULT '',
  definition TEXT,
  spec TEXT,
  input TEXT,
  description TEXT,
  tags TEXT,
  scope VARCHAR(80),
  project_id VARCHAR(80),
  is_system SMALLINT NOT NULL DEFAULT 0,
  workbook_name VARCHAR(255),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  UNIQUE (name, namespace, project_id)
);

CREATE TABLE environments_v2 (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  description TEXT,
  variables TEXT,
  scope VARCHAR(80),
  project_id VARCHAR(80),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  UNIQUE (name, project_id)
);

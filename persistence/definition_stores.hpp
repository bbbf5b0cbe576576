#pragma once

#include "persistence/database.hpp"

#include <memory>

namespace mistral::persistence {

/// CRUD over one table for one aggregate. Rows are records (JSON objects)
/// keyed by column name; the API layer shapes them into Mistral's resources.
class table_store {
public:
  table_store(std::shared_ptr<database> db, const table_def& table) : db_(std::move(db)), table_(table) {}

  const table_def& table() const { return table_; }

  /// Inserts `row`; errc::conflict on a duplicate unique key.
  status create(const record& row) { return db_->insert(table_, row); }
  result<std::optional<record>> get_by_id(const std::string& id);
  /// The row with `name` in `namespace_` (the column is `namespace`).
  result<std::optional<record>> get_by_name(const std::string& name, const std::string& namespace_);
  result<std::vector<record>> list(const list_query& q) { return db_->list(table_, q); }
  result<std::int64_t> update(const std::string& id, const record& changes);
  result<std::int64_t> remove(const std::string& id);
  result<std::int64_t> remove_where(const std::vector<filter>& where) { return db_->remove(table_, where); }

protected:
  std::shared_ptr<database> db_;
  const table_def& table_;
};

/// workbooks_v2: id, name, namespace, definition, spec, tags, scope, project_id, created_at, updated_at.
const table_def& workbooks_table();
/// workflow_definitions_v2: as workbooks plus input, is_system, workbook_name, checksum.
const table_def& workflow_definitions_table();
/// action_definitions_v2: as workbooks plus input, description, is_system, workbook_name.
const table_def& action_definitions_table();
/// environments_v2: id, name, description, variables, scope, project_id, created_at, updated_at.
const table_def& environments_table();

/// The stores of the definition aggregates.
class workbook_store : public table_store {
public:
  explicit workbook_store(std::shared_ptr<database> db) : table_store(std::move(db), workbooks_table()) {}
};

class workflow_definition_store : public table_store {
public:
  explicit workflow_definition_store(std::shared_ptr<database> db)
    : table_store(std::move(db), workflow_definitions_table()) {}
};

class action_definition_store : public table_store {
public:
  explicit action_definition_store(std::shared_ptr<database> db)
    : table_store(std::move(db), action_definitions_table()) {}
};

class environment_store : public table_store {
public:
  explicit environment_store(std::shared_ptr<database> db)
    : table_store(std::move(db), environments_table()) {}
  /// Environments are named per project, not per namespace.
  result<std::optional<record>> get_by_name(const std::string& name);
};

} // namespace mistral::persistence

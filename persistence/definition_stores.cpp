#include "persistence/definition_stores.hpp"

namespace mistral::persistence {

namespace {

using k = column_kind;

std::vector<column> definition_columns(std::vector<column> extra) {
  std::vector<column> cols = {{"id", k::text},
                              {"name", k::text},
                              {"namespace", k::text},
                              {"definition", k::text},
                              {"spec", k::json_text},
                              {"tags", k::json_text},
                              {"scope", k::text},
                              {"project_id", k::text},
                              {"created_at", k::timestamp},
                              {"updated_at", k::timestamp}};
  cols.insert(cols.end(), extra.begin(), extra.end());
  return cols;
}

} // namespace

const table_def& workbooks_table() {
  static const table_def t{"workbooks_v2", definition_columns({})};
  return t;
}

const table_def& workflow_definitions_table() {
  static const table_def t{
    "workflow_definitions_v2",
    definition_columns(
      {{"input", k::text}, {"is_system", k::boolean}, {"workbook_name", k::text}, {"checksum", k::text}})};
  return t;
}

const table_def& action_definitions_table() {
  static const table_def t{
    "action_definitions_v2",
    definition_columns(
      {{"input", k::text}, {"description", k::text}, {"is_system", k::boolean}, {"workbook_name", k::text}})};
  return t;
}

const table_def& environments_table() {
  static const table_def t{"environments_v2",
                           {{"id", k::text},
                            {"name", k::text},
                            {"description", k::text},
                            {"variables", k::json_text},
                            {"scope", k::text},
                            {"project_id", k::text},
                            {"created_at", k::timestamp},
                            {"updated_at", k::timestamp}}};
  return t;
}

result<std::optional<record>> table_store::get_by_id(const std::string& id) {
  return db_->find_one(table_, {filter{"id", filter_op::eq, {id}}});
}

result<std::optional<record>> table_store::get_by_name(const std::string& name,
                                                       const std::string& namespace_) {
  return db_->find_one(
    table_, {filter{"name", filter_op::eq, {name}}, filter{"namespace", filter_op::eq, {namespace_}}});
}

result<std::int64_t> table_store::update(const std::string& id, const record& changes) {
  return db_->update(table_, {filter{"id", filter_op::eq, {id}}}, changes);
}

result<std::int64_t> table_store::remove(const std::string& id) {
  return db_->remove(table_, {filter{"id", filter_op::eq, {id}}});
}

result<std::optional<record>> environment_store::get_by_name(const std::string& name) {
  return db_->find_one(table_, {filter{"name", filter_op::eq, {name}}});
}

} // namespace mistral::persistence

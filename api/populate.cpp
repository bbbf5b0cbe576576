#include "api/populate.hpp"

#include "actors/action/catalog.hpp"
#include "api/definitions_common.hpp"
#include "common/uuid.hpp"
#include "dsl/definition_text.hpp"
#include "dsl/parser.hpp"
#include "dsl/yaml_loader.hpp"
#include "persistence/definition_stores.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mistral::api {

namespace {

using persistence::filter;
using persistence::filter_op;
using persistence::record;
using persistence::write_op;

constexpr const char* default_project = "<default-project>";

// A non-owning shared_ptr: the stores take one, populate borrows the database.
std::shared_ptr<persistence::database> borrow(persistence::database& db) {
  return std::shared_ptr<persistence::database>(&db, [](persistence::database*) {});
}

record action_row(const dsl::action_spec& a, const std::string& definition) {
  return {{"name", a.name},
          {"description", a.description.empty() ? json(nullptr) : json(a.description)},
          {"tags", a.tags},
          {"definition", definition},
          {"spec", a.raw},
          {"is_system", false},
          {"input", action_input_text(a.raw.value("input", json::array()))},
          {"scope", "public"},
          {"namespace", ""}};
}

// adhoc_actions.create_or_update_actions(definition, scope='public'): the
// writes that create the actions of `text` or bring them up to date.
result<std::vector<std::string>> action_writes(persistence::database& db, const clock& clk,
                                               const std::string& text, std::vector<write_op>& ops) {
  auto specs = dsl::validate_actions(text);
  if (!specs.ok())
    return std::move(specs).err();
  persistence::action_definition_store store(borrow(db));
  std::vector<std::string> names;
  for (const auto& a : specs->actions) {
    auto existing = store.get_by_name(a.name, "");
    if (!existing.ok())
      return std::move(existing).err();
    record row = existing->has_value() ? **existing
                                       : record{{"id", make_uuid()},
                                                {"project_id", default_project},
                                                {"created_at", clk.now()},
                                                {"updated_at", nullptr}};
    record fresh = action_row(a, text);
    if (existing->has_value() && api::changes_row(row, fresh))
      row["updated_at"] = clk.now();
    row.update(fresh);
    ops.push_back({write_op::kind::upsert, &persistence::action_definitions_table(), row, {}});
    names.push_back(a.name);
  }
  return names;
}

result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return error(errc::not_found, "cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The *.yaml files of `dirs`, each folder's sorted by name.
result<std::vector<std::filesystem::path>> workflow_files(const std::vector<std::string>& dirs) {
  std::vector<std::filesystem::path> out;
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml"))
        found.push_back(entry.path());
    }
    if (ec)
      return error(errc::not_found, "cannot list the workflow folder " + dir + ": " + ec.message());
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

// workflows.create_workflows(text, scope='public', is_system=True) as writes.
result<std::vector<std::string>> workflow_writes(const clock& clk, const std::string& text,
                                                 const std::string& file, std::vector<write_op>& ops) {
  auto specs = dsl::validate_workflows(text);
  if (!specs.ok())
    return error(specs.err().code, file + ": " + specs.err().message);
  auto loaded = dsl::load_yaml(text);
  if (!loaded.ok())
    return error(loaded.err().code, file + ": " + loaded.err().message);
  std::vector<std::string> names;
  for (const auto& wf : specs->workflows) {
    std::string definition =
      specs->workflows.size() == 1 ? text : dsl::workflow_definition_from_list(loaded->value, wf.name);
    record row = {{"id", make_uuid()},
                  {"name", wf.name},
                  {"tags", wf.tags},
                  {"definition", definition},
                  {"spec", wf.raw},
                  {"scope", "public"},
                  {"namespace", ""},
                  {"is_system", true},
                  {"input", workflow_input_text(wf.raw.value("input", json::array()))},
                  {"project_id", default_project},
                  {"created_at", clk.now()},
                  {"updated_at", nullptr}};
    ops.push_back({write_op::kind::upsert, &persistence::workflow_definitions_table(), row, {}});
    names.push_back(wf.name);
  }
  return names;
}

// The writes of workflows.sync_db(): clear the system workflows, register
// those of `dirs`.
result<std::vector<std::string>>
system_workflow_writes(const clock& clk, const std::vector<std::string>& dirs, std::vector<write_op>& ops) {
  auto files = workflow_files(dirs);
  if (!files.ok())
    return std::move(files).err();
  ops.push_back({write_op::kind::remove,
                 &persistence::workflow_definitions_table(),
                 {},
                 {filter{"is_system", filter_op::eq, {true}}}});
  std::vector<std::string> names;
  for (const auto& file : *files) {
    auto text = read_file(file);
    if (!text.ok())
      return std::move(text).err();
    auto added = workflow_writes(clk, *text, file.filename().string(), ops);
    if (!added.ok())
      return std::move(added).err();
    names.insert(names.end(), added->begin(), added->end());
  }
  return names;
}

// Commits `ops` in one transaction, as Mistral's sync_db runs in one.
status commit(persistence::database& db, const std::vector<write_op>& ops) {
  auto done = db.write_batch(ops);
  if (!done.ok() && done.err().code == errc::conflict)
    return error(errc::conflict, "a workflow of the same name already exists: " + done.err().message);
  return done;
}

} // namespace

result<std::vector<std::string>> sync_preinstalled_actions(persistence::database& db, const clock& clk) {
  std::vector<write_op> ops;
  auto names = action_writes(db, clk, action::wait_ssh_definition(), ops);
  if (!names.ok())
    return names;
  auto done = commit(db, ops);
  if (!done.ok())
    return std::move(done).err();
  return names;
}

result<std::vector<std::string>> sync_system_workflows(persistence::database& db, const clock& clk,
                                                       const std::vector<std::string>& dirs) {
  std::vector<write_op> ops;
  auto names = system_workflow_writes(clk, dirs, ops);
  if (!names.ok())
    return names;
  auto done = commit(db, ops);
  if (!done.ok())
    return std::move(done).err();
  return names;
}

result<populate_report> populate(persistence::database& db, const clock& clk,
                                 const std::vector<std::string>& workflow_dirs) {
  std::vector<write_op> ops;
  auto actions = action_writes(db, clk, action::wait_ssh_definition(), ops);
  if (!actions.ok())
    return std::move(actions).err();
  auto workflows = system_workflow_writes(clk, workflow_dirs, ops);
  if (!workflows.ok())
    return std::move(workflows).err();
  auto done = commit(db, ops);
  if (!done.ok())
    return std::move(done).err();
  return populate_report{std::move(*actions), std::move(*workflows)};
}

} // namespace mistral::api

#pragma once

#include "common/clock.hpp"
#include "common/error.hpp"
#include "persistence/database.hpp"

#include <memory>
#include <string>
#include <vector>

namespace mistral::api {

/// What `mistral-db-manage populate` did.
struct populate_report {
  std::vector<std::string> actions;   ///< ad-hoc actions created or refreshed
  std::vector<std::string> workflows; ///< system workflows registered
};

/// Mistral's action_manager.sync_db(): the preinstalled ad-hoc actions
/// (std.wait_ssh) as public actions, created or brought up to date.
result<std::vector<std::string>> sync_preinstalled_actions(persistence::database& db, const clock& clk);

/// Mistral's workflows.sync_db(): deletes every system workflow, then
/// registers each *.yaml workflow document found in `dirs` (sorted by file
/// name) as a public system workflow of the default namespace. Mistral finds
/// these files through the `mistral.preinstalled_workflows` entry point
/// (mistral-extra); we take the folders.
result<std::vector<std::string>> sync_system_workflows(persistence::database& db, const clock& clk,
                                                       const std::vector<std::string>& dirs);

/// Both, as `mistral-db-manage populate` runs them.
result<populate_report> populate(persistence::database& db, const clock& clk,
                                 const std::vector<std::string>& workflow_dirs);

} // namespace mistral::api

// mistral-db-manage: the schema and preinstalled content of the store, as
// Mistral's alembic-based tool offers them, for SQLite and PostgreSQL.
//
//   mistral-db-manage [--config-file F]... COMMAND
//     upgrade [--delta N] [head|REV|+N]   apply the numbered migrations
//     current                             the revision the database is at
//     history                             every revision, newest first
//     branches                            (none: the history is linear)
//     stamp REV|head|base                 record a revision, run nothing
//     populate [--workflows-dir DIR]...   std.wait_ssh + system workflows
//     populate_actions                    std.wait_ssh only
//     sync_db [--workflows-dir DIR]...    same as populate

#include "api/populate.hpp"
#include "config/config.hpp"
#include "persistence/database.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using mistral::persistence::migration_info;
using mistral::persistence::migrations_for;

constexpr int exit_usage = 2;

const char* usage_text = "usage: mistral-db-manage [-h] [--config-file PATH]\n"
                         "                         {current,history,branches,upgrade,stamp,populate,"
                         "populate_actions,sync_db} ...\n";

const char* help_text =
  "\n"
  "Manages the schema and the preinstalled content of the C++ Mistral's database\n"
  "([database] connection: sqlite:///path or postgresql://user:pw@host/db).\n"
  "\n"
  "commands:\n"
  "  upgrade [--delta N] [head|REV]  apply the migrations up to REV (or N more)\n"
  "  current                         print the revision the database is at\n"
  "  history                         list every revision, newest first\n"
  "  branches                        list branch points (there are none)\n"
  "  stamp REV                       record REV (or head, base) without running it\n"
  "  populate [--workflows-dir DIR]  register std.wait_ssh and the system workflows\n"
  "                                  found in DIR (*.yaml; repeatable)\n"
  "  populate_actions                register std.wait_ssh only\n"
  "  sync_db [--workflows-dir DIR]   same as populate\n"
  "\n"
  "options:\n"
  "  -h, --help           show this help message and exit\n"
  "  --config-file PATH   path to a config file to use; may be repeated, later files win\n";

struct options {
  std::vector<std::string> config_files;
  std::string command;
  std::vector<std::string> args;
  std::optional<int> delta;
  std::vector<std::string> workflow_dirs;
  bool help = false;
};

int usage_error(const std::string& problem) {
  std::cerr << usage_text << "mistral-db-manage: error: " << problem << "\n";
  return exit_usage;
}

// "--name value" or "--name=value" at argv[i]; advances i past the value.
bool take_value(int argc, char** argv, int& i, const std::string& name, std::string& out,
                std::string& problem) {
  std::string arg = argv[i];
  if (arg.size() > name.size() && arg.compare(0, name.size() + 1, name + "=") == 0) {
    out = arg.substr(name.size() + 1);
    return true;
  }
  if (i + 1 >= argc) {
    problem = "argument " + name + ": expected one argument";
    return false;
  }
  out = argv[++i];
  return true;
}

bool is_option(const std::string& arg, const std::string& name) {
  return arg == name || arg.rfind(name + "=", 0) == 0;
}

bool parse_args(int argc, char** argv, options& opts, std::string& problem) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (arg == "-h" || arg == "--help") {
      opts.help = true;
    } else if (is_option(arg, "--config-file")) {
      if (!take_value(argc, argv, i, "--config-file", value, problem))
        return false;
      opts.config_files.push_back(value);
    } else if (is_option(arg, "--workflows-dir")) {
      if (!take_value(argc, argv, i, "--workflows-dir", value, problem))
        return false;
      opts.workflow_dirs.push_back(value);
    } else if (is_option(arg, "--delta")) {
      if (!take_value(argc, argv, i, "--delta", value, problem))
        return false;
      try {
        opts.delta = std::stoi(value);
      } catch (...) {
        problem = "argument --delta: invalid int value: '" + value + "'";
        return false;
      }
    } else if (arg.rfind("-", 0) == 0 && arg.size() > 1 && arg[1] != '0' && !std::isdigit(arg[1])) {
      problem = "unrecognized arguments: " + arg;
      return false;
    } else if (opts.command.empty()) {
      opts.command = arg;
    } else {
      opts.args.push_back(arg);
    }
  }
  return true;
}

// Revisions are the migrations' numbers, printed on four digits.
std::string revision_name(int version) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", version);
  return buf;
}

int head_version(mistral::persistence::backend kind) {
  const auto& all = migrations_for(kind);
  return all.empty() ? 0 : all.back().version;
}

// "head", "base" or a migration number ("3", "0003"); nullopt when unknown.
std::optional<int> parse_revision(const std::string& text, mistral::persistence::backend kind) {
  if (text == "head" || text == "heads")
    return head_version(kind);
  if (text == "base")
    return 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  int v = std::stoi(text);
  for (const auto& m : migrations_for(kind))
    if (m.version == v)
      return v;
  return std::nullopt;
}

int current_version(const std::vector<migration_info>& applied) {
  return applied.empty() ? 0 : applied.back().version;
}

int fail(const std::string& message) {
  std::cerr << "mistral-db-manage: error: " << message << "\n";
  return 1;
}

int do_upgrade(mistral::persistence::database& db, const options& opts) {
  auto applied = db.applied();
  if (!applied.ok())
    return fail(applied.err().message);
  int target = -1;
  if (opts.delta) {
    // N more migrations from the current one.
    int current = current_version(*applied), left = *opts.delta;
    target = current;
    for (const auto& m : migrations_for(db.kind()))
      if (m.version > current && left-- > 0)
        target = m.version;
  } else if (opts.args.empty()) {
    std::cerr << "You must provide a revision or relative delta\n";
    return 1;
  } else {
    auto rev = parse_revision(opts.args.front(), db.kind());
    if (!rev)
      return fail("Can't locate revision identified by '" + opts.args.front() + "'");
    target = *rev;
  }
  int from = current_version(*applied);
  auto done = db.migrate(target);
  if (!done.ok())
    return fail(done.err().message);
  for (const auto& m : *done) {
    std::cerr << "INFO  [mistral-db-manage] Running upgrade " << (from ? revision_name(from) : "") << " -> "
              << revision_name(m.version) << ", " << m.name << "\n";
    from = m.version;
  }
  return 0;
}

int do_current(mistral::persistence::database& db) {
  auto applied = db.applied();
  if (!applied.ok())
    return fail(applied.err().message);
  if (applied->empty())
    return 0;
  int current = current_version(*applied);
  std::cout << revision_name(current) << (current == head_version(db.kind()) ? " (head)" : "") << "\n";
  return 0;
}

int do_history(mistral::persistence::backend kind) {
  const auto& all = migrations_for(kind);
  for (std::size_t i = all.size(); i-- > 0;) {
    std::string down = i == 0 ? "<base>" : revision_name(all[i - 1].version);
    std::cout << down << " -> " << revision_name(all[i].version) << (i + 1 == all.size() ? " (head)" : "")
              << ", " << all[i].name << "\n";
  }
  return 0;
}

int do_stamp(mistral::persistence::database& db, const options& opts) {
  if (opts.args.empty())
    return usage_error("stamp needs a revision");
  auto rev = parse_revision(opts.args.front(), db.kind());
  if (!rev)
    return fail("Can't locate revision identified by '" + opts.args.front() + "'");
  auto done = db.stamp(*rev);
  return done.ok() ? 0 : fail(done.err().message);
}

// populate needs the schema: Mistral's would fail on the missing tables.
bool has_schema(mistral::persistence::database& db) {
  auto applied = db.applied();
  return applied.ok() && !applied->empty();
}

int do_populate(mistral::persistence::database& db, const options& opts, bool actions_only) {
  if (!has_schema(db))
    return fail("the database has no schema yet: run 'mistral-db-manage upgrade head' first");
  mistral::system_clock clk;
  if (actions_only) {
    auto names = mistral::api::sync_preinstalled_actions(db, clk);
    if (!names.ok())
      return fail(names.err().message);
    std::cerr << "INFO  [mistral-db-manage] Populating actions db: " << names->size() << " action(s)\n";
    return 0;
  }
  auto report = mistral::api::populate(db, clk, opts.workflow_dirs);
  if (!report.ok())
    return fail(report.err().message);
  std::cerr << "INFO  [mistral-db-manage] Populating db: " << report->actions.size() << " action(s), "
            << report->workflows.size() << " system workflow(s)\n";
  return 0;
}

mistral::result<std::shared_ptr<mistral::persistence::database>>
open_store(const mistral::config::config& cfg) {
  auto info = mistral::persistence::parse_connection_url(
    cfg.get_string("database", "connection", "sqlite:///data/mistral.db"));
  if (!info.ok())
    return std::move(info).err();
  info->sqlite_synchronous = mistral::config::sqlite_synchronous(cfg);
  info->pool_size = 1;
  return mistral::persistence::open_database(*info);
}

int run(const options& opts) {
  static const std::vector<std::string> known = {"current", "history",  "branches",         "upgrade",
                                                 "stamp",   "populate", "populate_actions", "sync_db"};
  if (opts.command.empty())
    return usage_error("too few arguments");
  if (std::find(known.begin(), known.end(), opts.command) == known.end())
    return usage_error("argument command: invalid choice: '" + opts.command + "'");
  auto cfg = mistral::config::load(opts.config_files);
  if (!cfg.ok()) {
    std::cerr << "mistral-db-manage: error: " << cfg.err().message << "\n";
    return exit_usage;
  }
  auto db = open_store(*cfg);
  if (!db.ok())
    return fail(db.err().message);
  auto& store = **db;
  if (opts.command == "upgrade")
    return do_upgrade(store, opts);
  if (opts.command == "current")
    return do_current(store);
  if (opts.command == "history")
    return do_history(store.kind());
  if (opts.command == "branches")
    return 0;
  if (opts.command == "stamp")
    return do_stamp(store, opts);
  return do_populate(store, opts, opts.command == "populate_actions");
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  std::string problem;
  if (!parse_args(argc, argv, opts, problem))
    return usage_error(problem);
  if (opts.help) {
    std::cout << usage_text << help_text;
    return 0;
  }
  return run(opts);
}

// mistral-server: one process running the chosen roles of the C++ Mistral.
//
//   mistral-server [--server all|api,engine,...] [--config-file F]... [--gen-config] [--version] [--help]

#include "actors/cluster/roles.hpp"
#include "actors/node.hpp"
#include "api/api_service.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "config/config.hpp"
#include "persistence/database.hpp"

#include <caf/actor.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <malloc.h>
#include <pthread.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

constexpr int exit_usage = 2;

struct options {
  std::string server; ///< empty: [DEFAULT] server from the config files
  std::vector<std::string> config_files;
  bool gen_config = false;
  bool version = false;
  bool help = false;
};

const char* usage_text =
  "usage: mistral-server [-h] [--version] [--config-file PATH] [--server SERVER] [--gen-config]\n"
  "\n"
  "The C++ OpenStack Mistral workflow service.\n"
  "\n"
  "options:\n"
  "  -h, --help           show this help message and exit\n"
  "  --version            show program's version number and exit\n"
  "  --config-file PATH   path to a config file to use; may be repeated, later files win\n"
  "  --server SERVER      comma list of roles: all (default), api, engine, executor,\n"
  "                       notifier, event-engine\n"
  "  --gen-config         print a complete sample configuration and exit\n";

// Parses "--name value" and "--name=value"; false on an unknown argument.
bool parse_args(int argc, char** argv, options& opts, std::string& problem) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline = true;
    }
    auto take_value = [&](std::string& out) {
      if (has_inline) {
        out = value;
        return true;
      }
      if (i + 1 >= argc) {
        problem = "argument " + arg + ": expected one argument";
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      opts.help = true;
    } else if (arg == "--version") {
      opts.version = true;
    } else if (arg == "--gen-config") {
      opts.gen_config = true;
    } else if (arg == "--server") {
      if (!take_value(opts.server))
        return false;
    } else if (arg == "--config-file") {
      std::string file;
      if (!take_value(file))
        return false;
      opts.config_files.push_back(file);
    } else {
      problem = "unrecognized arguments: " + std::string(argv[i]);
      return false;
    }
  }
  return true;
}

// Blocks SIGINT and SIGTERM in every thread; main waits for them with sigwait.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// A stop must finish within 5 s; if some library thread hangs the exit, cut it short.
void arm_exit_watchdog() {
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(4));
    mistral::log::warning("server", "shutdown took too long, exiting");
    std::fflush(nullptr);
    _exit(0);
  }).detach();
}

// glibc keeps in its arenas what a burst of work freed (a big with-items'
// rows, a load peak) and gives it back only when asked: the store's writer
// asks when it runs out of work, at most once a second. A trim costs
// milliseconds (an madvise per free run of pages, arenas locked meanwhile):
// trimming after every large batch took 5-11 % of a burst's CPU.
void give_back_freed_memory(std::size_t) {
  using clock = std::chrono::steady_clock;
  static clock::time_point last{};
  auto now = clock::now();
  if (now - last < std::chrono::seconds(1))
    return;
  last = now;
  malloc_trim(0);
}

// Opens [database] connection and brings its schema to the newest migration.
mistral::result<std::shared_ptr<mistral::persistence::database>>
open_store(const mistral::config::config& cfg) {
  auto info = mistral::persistence::parse_connection_url(
    cfg.get_string("database", "connection", "sqlite:///data/mistral.db"));
  if (!info.ok())
    return std::move(info).err();
  info->sqlite_synchronous = mistral::config::sqlite_synchronous(cfg);
  // At most three threads use the store at once: the group-commit writer and
  // the two actor threads (HTTP handlers and engine); each further SQLite
  // connection only holds its own schema and page cache (idle RSS).
  info->pool_size = 3;
  auto db = mistral::persistence::open_database(*info);
  if (!db.ok())
    return std::move(db).err();
  auto migrated = (*db)->migrate();
  if (!migrated.ok())
    return std::move(migrated).err();
  auto window = std::chrono::milliseconds(cfg.get_int("database", "group_commit_window_ms", 2));
  return mistral::persistence::with_group_commit(std::move(*db), window, give_back_freed_memory);
}

// --server wins over [DEFAULT] server.
std::string chosen_roles(const options& opts, const mistral::config::config& cfg) {
  if (!opts.server.empty())
    return opts.server;
  std::string joined;
  for (const auto& r : cfg.get_list("DEFAULT", "server"))
    joined += (joined.empty() ? "" : ",") + r;
  return joined.empty() ? "all" : joined;
}

int run(const options& opts) {
  auto cfg = mistral::config::load(opts.config_files);
  if (!cfg.ok()) {
    std::cerr << "mistral-server: error: " << cfg.err().message << "\n";
    return exit_usage;
  }
  auto roles = mistral::cluster::parse_roles(chosen_roles(opts, *cfg));
  if (!roles.ok()) {
    std::cerr << "mistral-server: error: " << roles.err().message << "\n";
    return exit_usage;
  }
  for (const auto& w : cfg->warnings())
    mistral::log::warning("config", w);
  if (cfg->get_bool("DEFAULT", "debug", false))
    mistral::log::set_level(mistral::log::level::debug);

  auto shared_cfg = std::make_shared<const mistral::config::config>(std::move(cfg).value());
  auto db = open_store(*shared_cfg);
  if (!db.ok()) {
    std::cerr << "mistral-server: error: " << db.err().message << "\n";
    return 1;
  }

  sigset_t stop_signals = block_stop_signals();
  auto node = mistral::actors::node::start(*shared_cfg, *roles, *db);
  if (!node.ok()) {
    std::cerr << "mistral-server: error: " << node.err().message << "\n";
    return 1;
  }
  std::unique_ptr<mistral::api::api_service> api;
  if (roles->api) {
    auto started = mistral::api::api_service::start((*node)->system(), shared_cfg, *db, (*node)->engine(),
                                                    roles->names(), (*node)->directory());
    if (!started.ok()) {
      std::cerr << "mistral-server: error: " << started.err().message << "\n";
      (*node)->stop();
      return 1;
    }
    api = std::move(started).value();
    mistral::log::info("api", "listening on " + api->base_url());
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  mistral::log::info("server", std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
  arm_exit_watchdog();
  if (api)
    api->stop();
  (*node)->stop();
  api.reset();
  node.value().reset();
  mistral::log::info("server", "stopped");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // Two malloc arenas for a dozen threads on two cores: each further arena
  // keeps its own free memory (idle RSS), contention stays low.
  mallopt(M_ARENA_MAX, 2);
  options opts;
  std::string problem;
  if (!parse_args(argc, argv, opts, problem)) {
    std::cerr << usage_text << "mistral-server: error: " << problem << "\n";
    return exit_usage;
  }
  if (opts.help) {
    std::cout << usage_text;
    return 0;
  }
  if (opts.version) {
    std::cout << mistral::mistral_version << "\n";
    return 0;
  }
  if (opts.gen_config) {
    std::cout << mistral::config::generate_sample();
    return 0;
  }
  return run(opts);
}

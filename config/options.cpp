// This server's view of Mistral's options: which ones it acts on, where its
// defaults differ from Mistral's (and why), and its own options.
#include "config/registry.hpp"

#include <stdexcept>

namespace mistral::config::detail {

namespace {

/// The namespace our own options print under in the sample ("# From ...").
constexpr const char* own_ns = "mistral-cpp";

option& at(std::vector<option>& opts, std::string_view group, std::string_view name) {
  for (auto& o : opts)
    if (o.group == group && o.name == name)
      return o;
  // The table is generated from Mistral 15, so a miss is a programming error.
  throw std::logic_error("config registry: no option [" + std::string(group) + "] " + std::string(name));
}

void change_default(option& o, std::optional<std::string> value, std::string note) {
  o.sample_defaults = {value ? *value : "<None>"};
  o.default_value = std::move(value);
  o.note = std::move(note);
}

option own(std::string group, std::string name, opt_kind kind, std::optional<std::string> def,
           std::string help) {
  option o;
  o.ns = own_ns;
  o.group = std::move(group);
  o.name = std::move(name);
  o.kind = kind;
  switch (kind) {
    case opt_kind::integer: o.type_name = "integer value"; break;
    case opt_kind::port:
      o.type_name = "port value";
      o.min = "0";
      o.max = "65535";
      break;
    case opt_kind::list: o.type_name = "list value"; break;
    case opt_kind::host_address: o.type_name = "host address value"; break;
    default: o.type_name = "string value"; break;
  }
  o.sample_defaults = {def ? *def : "<None>"};
  o.default_value = std::move(def);
  o.help = std::move(help);
  o.acted_on = true;
  return o;
}

void mark_acted_on(std::vector<option>& opts) {
  static const std::pair<const char*, const char*> acted[] = {
    {"api", "host"},
    {"api", "port"},
    {"api", "allow_action_execution_deletion"},
    {"api", "validation_mode"},
    {"api", "api_workers"},
    {"database", "connection"},
    {"pecan", "auth_enable"},
    {"engine", "execution_field_size_limit_kb"},
    {"executor", "host"},
    {"executor", "type"},
    {"cron_trigger", "enabled"},
    {"cron_trigger", "execution_interval"},
    {"notifier", "notify"},
    {"yaql", "limit_iterators"},
    {"yaql", "memory_quota"},
    {"coordination", "backend_url"},
    {"DEFAULT", "server"},
    {"DEFAULT", "debug"},
    {"DEFAULT", "log_file"},
    {"DEFAULT", "use_stderr"},
    {"DEFAULT", "js_implementation"},
  };
  for (auto [g, n] : acted)
    at(opts, g, n).acted_on = true;
  for (auto& o : opts)
    if (o.group == "execution_expiration_policy")
      o.acted_on = true;
}

void change_defaults(std::vector<option>& opts) {
  at(opts, "DEFAULT", "server").note = "This server takes all or a comma-separated list of api, engine, "
                                       "executor, event-engine and notifier; --server overrides it";
  change_default(at(opts, "api", "host"), "127.0.0.1",
                 "This server's default is 127.0.0.1 (Mistral's is 0.0.0.0), so a fresh install "
                 "only answers local clients; set 0.0.0.0 to listen on every interface");
  change_default(at(opts, "database", "connection"), "sqlite:///data/mistral.db",
                 "This server's default is sqlite:///data/mistral.db, relative to the working "
                 "directory (Mistral has none). Use postgresql://user:password@host/db for a "
                 "cluster of several nodes");
  change_default(at(opts, "pecan", "auth_enable"), "false",
                 "This server's default is false (Mistral's is true): it has no Keystone "
                 "integration, so every request is served as the same admin project");
  change_default(at(opts, "execution_expiration_policy", "evaluation_interval"), "60",
                 "This server's default is 60, so expired executions are removed hourly "
                 "(Mistral's default None switches the policy off); set it empty to switch it off");
  at(opts, "notifier", "notify").note =
    "Each item is a JSON object such as {\"type\": \"webhook\", \"url\": \"http://host/path\", "
    "\"headers\": {...}, \"event_types\": [\"WORKFLOW_SUCCEEDED\"]} or {\"type\": \"noop\"}; they are "
    "appended to params.notify of every execution started, as in Mistral";
  at(opts, "notifier", "type").note = "This server publishes from the process that runs the notifier role, "
                                      "else from the engine's own process";
  change_default(at(opts, "execution_expiration_policy", "older_than"), "10080",
                 "This server's default is 10080, one week (Mistral's is None)");
}

void add_database_options(std::vector<option>& opts) {
  // oslo.db's boolean of the same name becomes SQLite's PRAGMA synchronous
  // level; true/false stay valid so Mistral's files keep loading.
  auto& sync = at(opts, "database", "sqlite_synchronous");
  sync.kind = opt_kind::string;
  sync.type_name = "string value";
  sync.ns = own_ns;
  sync.help = "SQLite's PRAGMA synchronous level for the sqlite:// store. FULL syncs at every "
              "commit, so a committed transition survives a power loss";
  sync.note = "This replaces oslo.db's boolean of the same name: true means FULL and false means OFF";
  sync.choices = {{"OFF", "no fsync; fastest, a crash may lose recent commits"},
                  {"NORMAL", "fsync at checkpoints only (WAL mode)"},
                  {"FULL", "fsync at every commit"},
                  {"EXTRA", "FULL plus an fsync of the directory"},
                  {"true", "same as FULL (oslo.db's spelling)"},
                  {"false", "same as OFF (oslo.db's spelling)"}};
  change_default(sync, "FULL", sync.note);
  sync.deprecated_names.clear();
  sync.deprecated_names.push_back({"DEFAULT", "sqlite_synchronous"});
  sync.acted_on = true;

  auto window = own("database", "group_commit_window_ms", opt_kind::integer, "2",
                    "How long, in milliseconds, the store waits to gather the state changes of "
                    "several executions into one transaction (group commit). 0 commits every "
                    "batch at once; larger values trade latency for throughput");
  window.min = "0";
  opts.push_back(std::move(window));
}

void add_engine_options(std::vector<option>& opts) {
  auto chunk = own("engine", "instant_actions_per_commit", opt_kind::integer, "1000",
                   "How many instant actions (std.noop, std.echo without delay, std.fail, "
                   "std.test_dict) an execution runs inside one commit. A larger with-items or "
                   "chain of such tasks goes on in further commits, letting other executions "
                   "and requests in between");
  chunk.min = "1";
  opts.push_back(std::move(chunk));
  auto items = own("engine", "with_items_per_commit", opt_kind::integer, "1000",
                   "How many items of a with-items task an execution starts inside one commit. "
                   "The other items start in the next commits (a stored timer starts them after "
                   "a restart too), so the rows of one commit and the memory stay bounded however "
                   "many items there are");
  items.min = "1";
  opts.push_back(std::move(items));
  auto threads = own("engine", "actor_threads", opt_kind::integer, "1",
                     "How many threads run this server's actors (HTTP handlers, engine, "
                     "executions). Actions that wait (std.http, std.ssh, std.sleep...) run on "
                     "threads of their own, so one is enough on small machines: every further "
                     "thread adds a wake-up to the messages between actors (on 2 cores, 2 threads "
                     "made a 1-task execution 0.5 ms slower)");
  threads.min = "1";
  opts.push_back(std::move(threads));
}

void add_cluster_options(std::vector<option>& opts) {
  opts.push_back(own("cluster", "node_name", opt_kind::string, std::nullopt,
                     "The C++ server's CAF cluster settings. Name of this node among the "
                     "cluster's nodes; unset means the host name"));
  opts.push_back(own("cluster", "listen_host", opt_kind::host_address, "127.0.0.1",
                     "Address on which this node's CAF middleman accepts connections from "
                     "other nodes"));
  opts.push_back(own("cluster", "listen_port", opt_kind::port, "0",
                     "Port on which this node's CAF middleman accepts connections from other "
                     "nodes. 0 does not listen (single-node mode)"));
  opts.push_back(own("cluster", "seed_nodes", opt_kind::list, "",
                     "Nodes to connect to at start, as host:port of their [cluster] "
                     "listen_host and listen_port. Empty means a single node"));
}

void add_notifier_options(std::vector<option>& opts) {
  auto attempts = own("notifier", "webhook_attempts", opt_kind::integer, "5",
                      "How many times the C++ server's notifier tries to POST one event to a webhook "
                      "before it drops it (Mistral tries once). A try fails without an HTTP 200 or 201 "
                      "answer");
  attempts.min = "1";
  opts.push_back(std::move(attempts));
  auto floating = [](std::string name, std::string def, std::string help) {
    auto o = own("notifier", std::move(name), opt_kind::floating, std::move(def), std::move(help));
    o.type_name = "floating point value";
    o.min = "0";
    return o;
  };
  opts.push_back(floating("webhook_retry_delay", "1.0",
                          "Seconds before a failed webhook delivery is tried again; the wait doubles "
                          "after each failed try, up to webhook_max_retry_delay"));
  opts.push_back(floating("webhook_max_retry_delay", "60.0",
                          "The longest wait, in seconds, between two tries of one webhook delivery"));
  opts.push_back(
    floating("webhook_timeout", "30.0", "Seconds one webhook POST may take before it counts as failed"));
}

// Execution leases when several engines share one PostgreSQL store
// (actors/engine/lease.hpp). With the defaults an engine that dies is taken
// over within lease_ttl + 2 * takeover_interval = 4 s of its last heartbeat.
void add_engine_lease_options(std::vector<option>& opts) {
  auto seconds = [](std::string name, std::string def, std::string help) {
    option o = own("engine", std::move(name), opt_kind::floating, std::move(def), std::move(help));
    o.type_name = "floating point value";
    o.min = "0.05";
    return o;
  };
  opts.push_back(seconds("lease_ttl", "3.0",
                         "Seconds after which an engine whose heartbeat stopped changing is dead: the "
                         "other engines then take its executions over and continue them from the "
                         "store. An engine that cannot write its heartbeat for that long stops its "
                         "executions itself. Keep it a few heartbeat intervals"));
  opts.push_back(seconds("heartbeat_interval", "1.0",
                         "Seconds between two heartbeats of an engine (one UPDATE of its row in "
                         "engine_nodes, whatever the number of executions it owns)"));
  opts.push_back(seconds("takeover_interval", "0.5",
                         "Seconds between two scans of an engine for executions owned by dead "
                         "engines. A dead engine's executions are taken over within lease_ttl + 2 * "
                         "takeover_interval of its last heartbeat; a restarted engine takes its own "
                         "earlier executions over at once"));
}

} // namespace

void apply_server_settings(std::vector<option>& options) {
  mark_acted_on(options);
  change_defaults(options);
  add_database_options(options);
  add_engine_options(options);
  add_cluster_options(options);
  add_notifier_options(options);
  add_engine_lease_options(options);
}

} // namespace mistral::config::detail

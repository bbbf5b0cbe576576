#include "test/engine_harness.hpp"

#include "test/api_harness.hpp"

#include "actors/cluster/roles.hpp"
#include "api/api_service.hpp"
#include "api/caf_engine_client.hpp"
#include "api/http_server.hpp"
#include "persistence/database.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <future>
#include <random>
#include <stdexcept>
#include <thread>

namespace mistral::test {

namespace {

std::shared_ptr<config::config> config_from_text(const std::string& text) {
  auto loaded = config::load_text(text);
  if (!loaded.ok())
    throw std::runtime_error(loaded.err().message);
  return std::make_shared<config::config>(std::move(*loaded));
}

} // namespace

engine_harness::engine_harness(const std::string& config_text)
  : engine_harness(config_from_text(config_text)) {}

engine_harness::engine_harness(std::shared_ptr<config::config> cfg, const std::string& role_names) {
  std::mt19937_64 rng{std::random_device{}()};
  dir_ = std::filesystem::temp_directory_path() / ("mistral-engine-" + std::to_string(rng()));
  auto info = persistence::parse_connection_url("sqlite:///" + (dir_ / "engine.db").string());
  if (!info.ok())
    throw std::runtime_error(info.err().message);
  auto opened = persistence::open_database(*info);
  if (!opened.ok())
    throw std::runtime_error(opened.err().message);
  if (auto m = (*opened)->migrate(); !m.ok())
    throw std::runtime_error(m.err().message);
  auto db = persistence::with_group_commit(*opened, std::chrono::milliseconds(2));
  if (!cfg)
    cfg = std::make_shared<config::config>();
  auto roles = cluster::parse_roles(role_names);
  auto started = actors::node::start(*cfg, *roles, db);
  if (!started.ok())
    throw std::runtime_error(started.err().message);
  node_ = std::move(*started);
  ctx_ = std::make_shared<api::api_context>(
    api::api_context{db,
                     cfg,
                     std::make_shared<system_clock>(),
                     api::make_caf_engine_client(node_->system(), node_->engine()),
                     roles->names(),
                     {},
                     {}});
  api::add_v2_routes(routes_, ctx_);
}

std::size_t engine_harness::running_actors() {
  return node_->system().registry().running();
}

engine_harness::~engine_harness() {
  ctx_.reset();
  if (node_)
    node_->stop();
  node_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

api::http_response engine_harness::call(const std::string& method, const std::string& path,
                                        const std::string& body, const std::string& content_type) {
  return dispatch_and_wait(routes_, make_request(method, path, body, content_type));
}

json engine_harness::call_json(const std::string& method, const std::string& path, const std::string& body,
                               const std::string& content_type) {
  auto parsed = json::parse(call(method, path, body, content_type).body, nullptr, false);
  return parsed.is_discarded() ? json() : parsed;
}

void engine_harness::upload_workflows(const std::string& yaml) {
  auto r = call("POST", "/v2/workflows", yaml, "text/plain");
  REQUIRE_MESSAGE(r.status == 201, r.body);
}

std::string engine_harness::start(const std::string& workflow, const json& input) {
  return start(workflow, input, json::object());
}

std::string engine_harness::start(const std::string& workflow, const json& input, const json& params) {
  json body = {{"workflow_name", workflow}, {"input", input}};
  if (!params.empty())
    body["params"] = params;
  auto r = call("POST", "/v2/executions", body.dump());
  REQUIRE_MESSAGE(r.status == 201, r.body);
  return json::parse(r.body)["id"].get<std::string>();
}

json engine_harness::wait_terminal(const std::string& id, std::chrono::seconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  json row;
  while (std::chrono::steady_clock::now() < until) {
    row = call_json("GET", "/v2/executions/" + id);
    std::string state = row.value("state", "");
    if (state == "SUCCESS" || state == "ERROR" || state == "CANCELLED")
      return row;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return row;
}

} // namespace mistral::test

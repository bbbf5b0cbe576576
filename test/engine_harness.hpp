#pragma once

// Runs the whole engine in-process: a node with the engine and executor
// roles over a fresh group-committed SQLite store, driven through the v2
// routes as the HTTP layer drives them (replies may come from any thread).

#include "actors/node.hpp"
#include "api/api_context.hpp"
#include "api/http_types.hpp"
#include "api/router.hpp"
#include "common/json.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace mistral::test {

class engine_harness {
public:
  /// `cfg` (default: an empty configuration) and `roles` are the node's.
  explicit engine_harness(std::shared_ptr<config::config> cfg = nullptr,
                          const std::string& roles = "engine,executor");
  /// A node with the default roles and the mistral.conf text `config_text`
  /// (e.g. "[engine]\n...").
  explicit engine_harness(const std::string& config_text);
  ~engine_harness();

  /// Sends one request and waits for its reply.
  api::http_response call(const std::string& method, const std::string& path, const std::string& body = "",
                          const std::string& content_type = "application/json");
  /// The reply body as JSON (null when it is not JSON).
  json call_json(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& content_type = "application/json");

  /// Uploads a workflows document; fails the test when it is refused.
  void upload_workflows(const std::string& yaml);
  /// Starts `workflow` with `input`; returns the execution's id.
  std::string start(const std::string& workflow, const json& input = json::object());
  /// Starts `workflow` with `input` and `params`; returns the execution's id.
  std::string start(const std::string& workflow, const json& input, const json& params);
  /// Polls the execution until it is SUCCESS, ERROR or CANCELLED (or the
  /// deadline passes) and returns its last row.
  json wait_terminal(const std::string& id, std::chrono::seconds deadline = std::chrono::seconds(60));

  /// How many actors run in the node now (CAF's registry count).
  std::size_t running_actors();

  /// The store the engine writes.
  persistence::database& db() { return *ctx_->db; }

private:
  std::filesystem::path dir_;
  std::unique_ptr<actors::node> node_;
  std::shared_ptr<api::api_context> ctx_;
  api::router routes_;
};

} // namespace mistral::test

#include "api/api_service.hpp"

#include "actors/cluster/dispatcher_actor.hpp"
#include "api/actions_controller.hpp"
#include "api/api_context.hpp"
#include "api/caf_engine_client.hpp"
#include "api/code_sources_controller.hpp"
#include "api/cron_triggers_controller.hpp"
#include "api/environments_controller.hpp"
#include "api/event_triggers_controller.hpp"
#include "api/executions_controller.hpp"
#include "api/http_actor.hpp"
#include "api/http_server.hpp"
#include "api/root_controller.hpp"
#include "api/services_controller.hpp"
#include "api/workbooks_controller.hpp"
#include "api/workflows_controller.hpp"

namespace mistral::api {

struct api_service::impl {
  std::string base_url;
  caf::actor http;
  caf::actor dispatcher;
  std::unique_ptr<http_server> server;
};

void add_v2_routes(router& routes, const std::shared_ptr<api_context>& ctx) {
  add_root_routes(routes);
  add_environment_routes(routes, ctx);
  add_execution_routes(routes, ctx);
  add_workflow_routes(routes, ctx);
  add_workbook_routes(routes, ctx);
  add_action_routes(routes, ctx);
  add_cron_trigger_routes(routes, ctx);
  add_event_trigger_routes(routes, ctx);
  add_code_source_routes(routes, ctx);
  add_service_routes(routes, ctx);
  add_member_routes(routes, ctx);
}

api_service::api_service(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

api_service::~api_service() {
  stop();
}

result<std::unique_ptr<api_service>>
api_service::start(caf::actor_system& sys, std::shared_ptr<const config::config> config,
                   std::shared_ptr<persistence::database> db, caf::actor engine,
                   std::vector<std::string> node_roles, caf::actor directory) {
  caf::actor state_dispatcher; // runs actions with params.target on the executors
  auto ctx = std::make_shared<api_context>(api_context{std::move(db),
                                                       config,
                                                       std::make_shared<system_clock>(),
                                                       engine ? make_caf_engine_client(sys, engine) : nullptr,
                                                       std::move(node_roles),
                                                       {},
                                                       {}});
  if (directory) {
    ctx->cluster_members = make_cluster_members_query(sys, directory);
    state_dispatcher = cluster::spawn_dispatcher(sys, directory);
    ctx->run_on_target = make_target_runner(sys, state_dispatcher);
  }
  const config::config& cfg = *config;
  auto routes = std::make_shared<router>();
  add_v2_routes(*routes, ctx);

  auto state = std::make_unique<impl>();
  state->dispatcher = state_dispatcher;
  state->http = spawn_http_actor(sys, routes);
  std::string host = cfg.get_string("api", "host", "127.0.0.1");
  auto port = cfg.get_int("api", "port", 8989);
  if (port < 0 || port > 65535)
    return error(errc::invalid_input, "[api] port out of range: " + std::to_string(port));
  caf::actor target = state->http;
  auto server = http_server::start(
    host, static_cast<std::uint16_t>(port),
    [target, routes](http_request req, responder respond) {
      // The hottest quick routes run here: a hop to the HTTP actor and
      // back is a scheduler wake-up and a post to this thread each way.
      if (dispatch_inline(*routes, req, respond))
        return;
      caf::anon_send(target,
                     http_exchange{std::make_shared<http_request>(std::move(req)), std::move(respond)});
    },
    // The listener's threads only parse, forward and write: handlers never
    // block them (blocking action runs get their own thread). One thread
    // measured best: every extra idle thread costs a futex wake-up per
    // continuation that cpprest posts (bench/README.md).
    static_cast<int>(std::max<std::int64_t>(1, cfg.get_int("api", "api_workers", 1))));
  if (!server.ok()) {
    caf::anon_send_exit(state->http, caf::exit_reason::user_shutdown);
    return std::move(server).err();
  }
  state->server = std::move(server).value();
  state->base_url = "http://" + host + ":" + std::to_string(port);
  return std::unique_ptr<api_service>(new api_service(std::move(state)));
}

const std::string& api_service::base_url() const {
  return impl_->base_url;
}

void api_service::stop() {
  if (!impl_)
    return;
  if (impl_->server)
    impl_->server->stop();
  if (impl_->http)
    caf::anon_send_exit(impl_->http, caf::exit_reason::user_shutdown);
  impl_->http = nullptr;
  if (impl_->dispatcher)
    caf::anon_send_exit(impl_->dispatcher, caf::exit_reason::user_shutdown);
  impl_->dispatcher = nullptr;
}

} // namespace mistral::api

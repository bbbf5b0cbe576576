#pragma once

#include "actors/action/std_actions.hpp"
#include "api/engine_client.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <functional>

namespace mistral::api {

/// The engine client over CAF: one long-lived actor makes the requests. A call
/// the engine has not answered within `timeout` gets CAF's request_timeout
/// error (checked at most every second, so up to a second later). The actor
/// ends with the engine; a call waiting then, or made later, gets CAF's
/// request_receiver_down error.
std::shared_ptr<engine_client>
make_caf_engine_client(caf::actor_system& sys, caf::actor engine,
                       std::chrono::nanoseconds timeout = std::chrono::seconds(60));

/// Runs an action through a cluster dispatcher (actors/cluster): sends a
/// run_action_msg and waits on the calling (non-CAF) thread for its result.
std::function<action::action_result(const std::string&, const std::string&, const json&, const std::string&,
                                    std::int64_t)>
make_target_runner(caf::actor_system& sys, caf::actor dispatcher);

/// Asks the cluster `directory` for its members (members_atom); the callback
/// gets the JSON text or an error.
std::function<void(std::function<void(result<std::string>)>)>
make_cluster_members_query(caf::actor_system& sys, caf::actor directory);

} // namespace mistral::api

#pragma once

// How controllers talk to the engine without touching CAF: each call sends
// one message and calls back (on some thread) with the reply.

#include "common/error.hpp"

#include <functional>
#include <memory>
#include <string>

namespace mistral::actors {
struct start_execution;
struct control_msg;
struct action_result_msg;
} // namespace mistral::actors

namespace mistral::api {

class engine_client {
public:
  using reply = std::function<void(result<std::string>)>;
  virtual ~engine_client() = default;

  /// Starts an execution; the reply is its committed row (JSON text).
  virtual void start(const actors::start_execution& req, reply done) = 0;
  /// Pauses, resumes, stops or reruns; the reply is the execution's row after it.
  virtual void control(const actors::control_msg& req, reply done) = 0;
  /// Delivers an action's result (async actions completed through the API).
  virtual void complete_action(const actors::action_result_msg& msg) = 0;
};

} // namespace mistral::api

#include "api/caf_engine_client.hpp"

#include "actors/protocol.hpp"
#include "api/request_deadlines.hpp"

#include <algorithm>
#include <memory>
#include <unordered_map>

namespace mistral::api {

namespace {

// An error that carries one text (the engine's, or the cluster proxy's "no
// engine node is running") reads better as that text than as CAF's rendering.
std::string text_of(caf::actor_system& sys, const caf::error& e) {
  if (e.context().match_elements<std::string>())
    return e.context().get_as<std::string>(0);
  return sys.render(e);
}

/// A caller's callback. Dropped unanswered (its call reached the client
/// actor after that quit, as its engine was gone), it answers what a request
/// to a terminated actor gets.
struct waiting_caller {
  engine_client::reply done;
  std::shared_ptr<const std::string> gone_text;
  waiting_caller(engine_client::reply d, std::shared_ptr<const std::string> t)
    : done(std::move(d)), gone_text(std::move(t)) {}
  waiting_caller(const waiting_caller&) = delete;
  waiting_caller& operator=(const waiting_caller&) = delete;
  ~waiting_caller() {
    if (done)
      done(error(errc::internal, *gone_text));
  }
};

/// One call handed to the client actor (in-process only: it holds a callback).
struct engine_call {
  caf::message request;
  std::shared_ptr<waiting_caller> caller;
};

/// The client actor's own clock: it checks the deadlines of its requests.
struct deadline_tick {};

} // namespace

} // namespace mistral::api

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mistral::api::engine_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mistral::api::deadline_tick)

namespace mistral::api {

namespace {

struct client_state {
  static inline const char* name = "mistral.api.engine_client";
  caf::actor engine;
  caf::timespan timeout{};
  caf::timespan tick{};
  request_deadlines deadlines;
  std::unordered_map<std::uint64_t, engine_client::reply> waiting; ///< by response id
  bool ticking = false;
};

using client_ptr = caf::stateful_actor<client_state>*;

void arm_tick(client_ptr self) {
  auto& st = self->state;
  if (st.ticking || st.deadlines.empty())
    return;
  st.ticking = true;
  self->delayed_send(self, st.tick, deadline_tick{});
}

void answer(client_ptr self, std::uint64_t id, result<std::string> r) {
  auto& st = self->state;
  st.deadlines.remove(id);
  auto it = st.waiting.find(id);
  if (it == st.waiting.end())
    return;
  auto done = std::move(it->second);
  st.waiting.erase(it);
  done(std::move(r));
}

// One long-lived actor makes every engine call: spawning an actor per call
// (scheduler enqueue and wake-up, its exit) and a CAF request timeout per
// call (a push to the clock thread and a wake-up to set it, another to
// cancel it) showed in the POST latency. Its requests have no CAF timeout:
// one tick at most every second checks their deadlines and answers an
// expired one with the error CAF's own timeout gives, which also drops its
// response handler, so a late answer is ignored.
//
// It lives as long as its engine: when that terminates (the node stops it
// before the actor system goes), the calls still waiting get the error a
// request to a terminated actor gets, and so do later ones (waiting_caller).
caf::behavior engine_client_actor(client_ptr self, caf::actor engine, caf::timespan timeout,
                                  std::shared_ptr<const std::string> gone_text) {
  auto& st = self->state;
  st.engine = std::move(engine);
  st.timeout = timeout;
  st.tick = std::min<caf::timespan>(std::chrono::seconds(1), timeout / 4);
  if (st.engine)
    self->monitor(st.engine);
  self->set_down_handler([self, gone_text](caf::down_msg& dm) {
    if (dm.source != self->state.engine.address())
      return;
    auto waiting = std::move(self->state.waiting);
    self->state.waiting.clear();
    for (auto& [id, done] : waiting)
      done(error(errc::internal, *gone_text));
    self->quit(dm.reason);
  });
  return {
    [self](engine_call& call) {
      auto& st = self->state;
      auto handle = self->request(st.engine, caf::infinite, std::move(call.request));
      auto id = handle.id().integer_value();
      st.deadlines.add(id, request_deadlines::clock::now() + st.timeout);
      st.waiting.emplace(id, std::move(call.caller->done));
      handle.then(
        [self, id](std::string& row) { answer(self, id, std::move(row)); },
        [self, id](caf::error& e) { answer(self, id, error(errc::internal, text_of(self->system(), e))); });
      arm_tick(self);
    },
    [self](deadline_tick) {
      self->state.ticking = false;
      for (auto id : self->state.deadlines.expire(request_deadlines::clock::now()))
        self->eq_impl(caf::message_id{id}, nullptr, self->context(),
                      caf::make_error(caf::sec::request_timeout));
      arm_tick(self);
    },
  };
}

class caf_engine_client final : public engine_client {
public:
  caf_engine_client(caf::actor_system& sys, caf::actor engine, caf::timespan timeout)
    : engine_(engine), gone_text_(std::make_shared<const std::string>(
                         sys.render(caf::make_error(caf::sec::request_receiver_down)))),
      client_(sys.spawn(engine_client_actor, std::move(engine), timeout, gone_text_)) {}

  void start(const actors::start_execution& req, reply done) override {
    ask(caf::make_message(actors::start_atom_v, req), std::move(done));
  }

  void control(const actors::control_msg& req, reply done) override {
    ask(caf::make_message(req), std::move(done));
  }

  void complete_action(const actors::action_result_msg& msg) override { caf::anon_send(engine_, msg); }

private:
  void ask(caf::message msg, reply done) {
    caf::anon_send(
      client_, engine_call{std::move(msg), std::make_shared<waiting_caller>(std::move(done), gone_text_)});
  }

  caf::actor engine_;
  std::shared_ptr<const std::string> gone_text_;
  caf::actor client_; // sends nothing when this goes: the actor system may be gone already
};

} // namespace

std::shared_ptr<engine_client> make_caf_engine_client(caf::actor_system& sys, caf::actor engine,
                                                      std::chrono::nanoseconds timeout) {
  return std::make_shared<caf_engine_client>(sys, std::move(engine), timeout);
}

std::function<action::action_result(const std::string&, const std::string&, const json&, const std::string&,
                                    std::int64_t)>
make_target_runner(caf::actor_system& sys, caf::actor dispatcher) {
  return [&sys, dispatcher](const std::string& action_id, const std::string& action, const json& input,
                            const std::string& target, std::int64_t timeout_s) {
    // Declared before the scoped actor, so it runs after it is gone (STACK.md §3.4, pitfall 3).
    struct foreign_thread_guard {
      ~foreign_thread_guard() { caf::logger::set_current_actor_system(nullptr); }
    } guard;
    caf::scoped_actor self{sys};
    actors::run_action_msg m;
    m.action_id = action_id;
    m.action = action;
    m.input_json = input.dump();
    m.target = target;
    m.timeout = timeout_s;
    self->send(dispatcher, m);
    auto out = action::action_result::failed(
      json("No executor with target '" + target + "' answered within " + std::to_string(timeout_s) + " s"));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (bool done = false; !done && std::chrono::steady_clock::now() < deadline;) {
      self->receive(
        [&](actors::action_result_msg& r) {
          if (r.action_id != action_id)
            return;
          done = true;
          json data = json::parse(r.data_json, nullptr, false);
          json err = json::parse(r.error_json, nullptr, false);
          if (r.kind == actors::action_result_msg::success)
            out = action::action_result::ok(data.is_discarded() ? json(nullptr) : data);
          else if (r.kind == actors::action_result_msg::cancelled)
            out = action::action_result{action::action_result::kind::cancelled, nullptr, nullptr};
          else
            out = action::action_result::failed(err.is_discarded() ? json(nullptr) : err);
        },
        [&](actors::cluster_waiting_atom, std::string&, std::string&, std::string&) {},
        caf::after(std::chrono::seconds(1)) >> [] {});
    }
    return out;
  };
}

std::function<void(std::function<void(result<std::string>)>)>
make_cluster_members_query(caf::actor_system& sys, caf::actor directory) {
  return [&sys, directory](std::function<void(result<std::string>)> done) {
    sys.spawn([directory, done = std::move(done)](caf::event_based_actor* self) {
      self->request(directory, std::chrono::seconds(5), actors::members_atom_v)
        .then(
          [self, done](std::string& members) {
            done(std::move(members));
            self->quit();
          },
          [self, done](caf::error& e) {
            done(error(errc::unavailable, self->system().render(e)));
            self->quit();
          });
    });
  };
}

} // namespace mistral::api

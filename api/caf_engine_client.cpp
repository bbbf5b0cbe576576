#include "api/caf_engine_client.hpp"

#include "actors/protocol.hpp"

namespace mistral::api {

namespace {

constexpr auto engine_timeout = std::chrono::seconds(60);

// An error that carries one text (the engine's, or the cluster proxy's "no
// engine node is running") reads better as that text than as CAF's rendering.
std::string text_of(caf::actor_system& sys, const caf::error& e) {
  if (e.context().match_elements<std::string>())
    return e.context().get_as<std::string>(0);
  return sys.render(e);
}

class caf_engine_client final : public engine_client {
public:
  caf_engine_client(caf::actor_system& sys, caf::actor engine) : sys_(sys), engine_(std::move(engine)) {}

  void start(const actors::start_execution& req, reply done) override {
    ask(caf::make_message(actors::start_atom_v, req), std::move(done));
  }

  void control(const actors::control_msg& req, reply done) override {
    ask(caf::make_message(req), std::move(done));
  }

  void complete_action(const actors::action_result_msg& msg) override { caf::anon_send(engine_, msg); }

private:
  void ask(caf::message msg, reply done) {
    auto engine = engine_;
    sys_.spawn([engine, msg = std::move(msg), done = std::move(done)](caf::event_based_actor* self) mutable {
      self->request(engine, engine_timeout, std::move(msg))
        .then(
          [self, done](std::string& row) {
            done(std::move(row));
            self->quit();
          },
          [self, done](caf::error& e) {
            done(error(errc::internal, text_of(self->system(), e)));
            self->quit();
          });
    });
  }

  caf::actor_system& sys_;
  caf::actor engine_;
};

} // namespace

std::shared_ptr<engine_client> make_caf_engine_client(caf::actor_system& sys, caf::actor engine) {
  return std::make_shared<caf_engine_client>(sys, std::move(engine));
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

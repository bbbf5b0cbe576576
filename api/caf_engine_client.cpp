#include "api/caf_engine_client.hpp"

#include "actors/protocol.hpp"

namespace mistral::api {

namespace {

constexpr auto engine_timeout = std::chrono::seconds(60);

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
            done(error(errc::internal, self->system().render(e)));
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

} // namespace mistral::api

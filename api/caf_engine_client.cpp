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

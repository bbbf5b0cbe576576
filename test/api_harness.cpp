#include "test/api_harness.hpp"

#include "api/api_service.hpp"
#include "api/http_server.hpp"
#include "persistence/database.hpp"

#include <chrono>
#include <future>
#include <random>
#include <stdexcept>

namespace mistral::test {

api_harness::api_harness() {
  std::mt19937_64 rng{std::random_device{}()};
  dir_ = std::filesystem::temp_directory_path() / ("mistral-api-" + std::to_string(rng()));
  auto info = persistence::parse_connection_url("sqlite:///" + (dir_ / "api.db").string());
  if (!info.ok())
    throw std::runtime_error(info.err().message);
  auto db = persistence::open_database(*info);
  if (!db.ok())
    throw std::runtime_error(db.err().message);
  if (auto m = (*db)->migrate(); !m.ok())
    throw std::runtime_error(m.err().message);
  auto cfg = std::make_shared<config::config>();
  ctx_ = std::make_shared<api::api_context>(
    api::api_context{*db, cfg, std::make_shared<system_clock>(), nullptr, {"api", "engine", "executor"}, {}});
  api::add_v2_routes(routes_, ctx_);
}

api_harness::~api_harness() {
  ctx_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

api::http_request make_request(const std::string& method, const std::string& path, const std::string& body,
                               const std::string& content_type) {
  api::http_request req;
  req.method = method;
  auto q = path.find('?');
  req.path = path.substr(0, q);
  if (q != std::string::npos)
    req.query = api::parse_query(path.substr(q + 1));
  req.headers["host"] = "127.0.0.1:8989";
  req.headers["content-type"] = content_type;
  req.body = body;
  return req;
}

api::http_response dispatch_and_wait(api::router& routes, const api::http_request& req) {
  auto answer = std::make_shared<std::promise<api::http_response>>();
  auto reply = answer->get_future();
  routes.dispatch(req, [answer](api::http_response r) { answer->set_value(std::move(r)); });
  if (reply.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    api::http_response none;
    none.status = -1;
    return none;
  }
  return reply.get();
}

api::http_response api_harness::call(const std::string& method, const std::string& path,
                                     const std::string& body, const std::string& content_type) {
  auto req = make_request(method, path, body, content_type);
  for (const auto& [name, value] : headers_)
    req.headers[name] = value;
  return dispatch_and_wait(routes_, req);
}

json api_harness::body_of(const api::http_response& r) {
  auto parsed = json::parse(r.body, nullptr, false);
  return parsed.is_discarded() ? json() : parsed;
}

} // namespace mistral::test

#include "api/root_controller.hpp"

namespace mistral::api {

namespace {

http_response json_ok(std::string body) {
  http_response r;
  r.body = std::move(body);
  return r;
}

// Mistral builds these bodies with Python's json.dumps: ", " and ": " separators.
http_response versions(const http_request& req) {
  return json_ok("{\"versions\": [{\"id\": \"v2.0\", \"status\": \"CURRENT\", \"links\": [{\"href\": \"" +
                 req.host_url() + "/v2\", \"target\": \"v2\", \"rel\": \"self\"}]}]}");
}

http_response v2_root(const http_request& req) {
  if (req.path == "/v2") {
    // pecan redirects the slash-less collection root to its canonical form.
    std::string location = req.host_url() + "/v2/";
    http_response r;
    r.status = 302;
    r.content_type = "text/html; charset=UTF-8";
    r.headers.emplace_back("Location", location);
    r.body = "<html>\n <head>\n  <title>302 Found</title>\n </head>\n <body>\n  <h1>302 Found</h1>\n"
             "  The resource was found at <a href=\"" +
             location + "\">" + location +
             "</a>;\nyou should be redirected automatically.\n\n\n </body>\n</html>";
    return r;
  }
  return json_ok("{\"uri\": \"" + req.host_url() + "/v2\"}");
}

} // namespace

void add_root_routes(router& r) {
  r.add("GET", "/",
        [](const http_request& req, const route_params&, responder respond) { respond(versions(req)); });
  r.add("GET", "/v2",
        [](const http_request& req, const route_params&, responder respond) { respond(v2_root(req)); });
}

} // namespace mistral::api

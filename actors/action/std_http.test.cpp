#include "actors/action/std_actions.hpp"
#include "actors/action/std_test_server.hpp"

#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <thread>

using namespace mistral;
using namespace mistral::action;
using mistral::action::testing::tcp_test_server;

namespace {

/// A tiny HTTP/1.1 server: records each request and answers by path.
struct http_sink {
  std::mutex mutex;
  std::vector<std::string> requests;
  tcp_test_server server{[this](int fd, const std::atomic<bool>& stopping) { serve(fd, stopping); }};

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server.port()) + path;
  }

  std::string last_request() {
    std::lock_guard<std::mutex> lock(mutex);
    return requests.empty() ? "" : requests.back();
  }

  static std::string response(int status, const std::string& reason, const std::string& content_type,
                              const std::string& body, const std::string& extra = "") {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + content_type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" + extra +
           "\r\n" + body;
  }

  void serve(int fd, const std::atomic<bool>& stopping) {
    std::string buffer;
    if (!testing::read_until(fd, buffer, "\r\n\r\n", stopping))
      return;
    auto head_end = buffer.find("\r\n\r\n") + 4;
    size_t length = 0;
    std::string lower = buffer.substr(0, head_end);
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto at = lower.find("content-length:"); at != std::string::npos)
      length = std::stoul(lower.substr(at + 15));
    while (buffer.size() < head_end + length)
      if (!testing::read_until(fd, buffer, std::string(1, '\0'), stopping, std::chrono::seconds(1)) &&
          buffer.size() < head_end + length)
        break;
    {
      std::lock_guard<std::mutex> lock(mutex);
      requests.push_back(buffer);
    }
    std::string target = buffer.substr(buffer.find(' ') + 1);
    target = target.substr(0, target.find(' '));
    std::string path = target.substr(0, target.find('?'));
    std::string reply;
    if (path == "/json") {
      reply = response(200, "OK", "application/json", R"({"a": 1, "b": [true, null]})");
    } else if (path == "/text") {
      reply = response(200, "OK", "text/plain; charset=utf-8", "hello \xe2\x9c\x93");
    } else if (path == "/latin1") {
      reply = response(200, "OK", "text/html", "caf\xe9");
    } else if (path == "/missing") {
      reply = response(404, "Not Found", "application/json", R"({"error": "nope"})");
    } else if (path == "/teapot") {
      reply = response(418, "I'm a teapot", "text/plain", "short and stout");
    } else if (path == "/redirect") {
      reply = response(302, "Found", "text/plain", "", "Location: /json\r\n");
    } else if (path == "/temporary") {
      reply = response(307, "Temporary Redirect", "text/plain", "", "Location: /json\r\n");
    } else if (path == "/cookies") {
      reply = response(200, "OK", "text/plain", "",
                       "Set-Cookie: session=abc; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT\r\n"
                       "Set-Cookie: theme=dark\r\n");
    } else if (path == "/slow") {
      std::string ignored;
      testing::read_until(fd, ignored, "never", stopping, std::chrono::seconds(5));
      reply = response(200, "OK", "text/plain", "late");
    } else {
      reply = response(200, "OK", "application/octet-stream", "echo");
    }
    testing::send_all(fd, reply);
  }
};

action_context test_context() {
  action_context ctx;
  ctx.workflow_execution_id = "wf-ex-1";
  ctx.task_execution_id = "task-ex-1";
  ctx.workflow_name = "my_wf";
  ctx.action_execution_id = "action-ex-1";
  ctx.callback_url = "http://127.0.0.1:8989/v2/action_executions/action-ex-1";
  return ctx;
}

action_result http(const json& input, const std::atomic<bool>* cancel = nullptr) {
  return run_std_action("std.http", input, test_context(), cancel).result;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// True when the raw request has the header line (cpprest writes no space after the colon).
bool has_header(const std::string& request, const std::string& name, const std::string& value) {
  return contains(request, "\r\n" + name + ": " + value + "\r\n") ||
         contains(request, "\r\n" + name + ":" + value + "\r\n");
}

} // namespace

TEST_CASE("std.http decodes a JSON response and returns requests' result fields in order") {
  http_sink sink;
  auto r = http({{"url", sink.url("/json")}});
  REQUIRE(r.outcome == action_result::kind::success);
  std::vector<std::string> keys;
  for (const auto& [k, v] : r.data.items())
    keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"content", "status", "headers", "url", "history", "encoding",
                                         "reason", "cookies", "elapsed"});
  CHECK(r.data["content"] == json{{"a", 1}, {"b", json::array({true, nullptr})}});
  CHECK(r.data["status"] == 200);
  CHECK(r.data["url"] == sink.url("/json"));
  CHECK(r.data["history"] == json::array());
  CHECK(r.data["encoding"] == "utf-8");
  CHECK(r.data["reason"] == "OK");
  CHECK(r.data["cookies"] == json::object());
  CHECK(r.data["elapsed"].is_number_float());
  CHECK(r.data["headers"].is_object());
  bool has_type = false;
  for (const auto& [k, v] : r.data["headers"].items())
    has_type = has_type || (k == "Content-Type" && v == "application/json");
  CHECK(has_type);
  std::string request = sink.last_request();
  CHECK(request.rfind("GET /json HTTP/1.1\r\n", 0) == 0);
  CHECK(contains(request, "User-Agent:python-requests/"));
}

TEST_CASE("std.http returns text content in the response's encoding") {
  http_sink sink;
  auto text = http({{"url", sink.url("/text")}});
  CHECK(text.data["content"] == "hello \xe2\x9c\x93");
  CHECK(text.data["encoding"] == "utf-8");
  auto latin = http({{"url", sink.url("/latin1")}});
  CHECK(latin.data["content"] == "caf\xc3\xa9");
  CHECK(latin.data["encoding"] == "ISO-8859-1");
  auto binary = http({{"url", sink.url("/other")}});
  CHECK(binary.data["content"] == "echo");
  CHECK(binary.data["encoding"].is_null());
}

TEST_CASE(
  "std.http sends params, a dict body as JSON text, headers with numbers as text, cookies and basic auth") {
  http_sink sink;
  auto r = http({{"url", sink.url("/echo?x=0")},
                 {"method", "post"},
                 {"params", {{"q", "a b"}, {"n", 1}, {"many", json::array({"1", "2"})}, {"none", nullptr}}},
                 {"body", {{"k", "v"}, {"n", 1.5}}},
                 {"headers", {{"X-Count", 3}, {"X-Flag", true}, {"X-Text", "t"}}},
                 {"cookies", {{"c1", "v1"}, {"c2", "v2"}}},
                 {"auth", "user:secret"}});
  REQUIRE(r.outcome == action_result::kind::success);
  CHECK(r.data["url"] == sink.url("/echo?x=0&q=a+b&n=1&many=1&many=2"));
  std::string request = sink.last_request();
  CHECK(request.rfind("POST /echo?x=0&q=a+b&n=1&many=1&many=2 HTTP/1.1\r\n", 0) == 0);
  CHECK(has_header(request, "X-Count", "3"));
  CHECK(has_header(request, "X-Flag", "True"));
  CHECK(has_header(request, "X-Text", "t"));
  CHECK(has_header(request, "Cookie", "c1=v1; c2=v2"));
  CHECK(has_header(request, "Authorization", "Basic dXNlcjpzZWNyZXQ="));
  CHECK(contains(request, "\r\n\r\n{\"k\": \"v\", \"n\": 1.5}"));
}

TEST_CASE("std.http sends json as application/json and refuses body together with json") {
  http_sink sink;
  auto r = http({{"url", sink.url("/echo")}, {"method", "PUT"}, {"json", {{"a", json::array({1, 2})}}}});
  REQUIRE(r.outcome == action_result::kind::success);
  std::string request = sink.last_request();
  CHECK(request.rfind("PUT /echo HTTP/1.1", 0) == 0);
  CHECK(has_header(request, "Content-Type", "application/json"));
  CHECK(contains(request, "\r\n\r\n{\"a\": [1, 2]}"));
  auto both = http({{"url", sink.url("/echo")}, {"json", {{"a", 1}}}, {"body", "x"}});
  CHECK(both.outcome == action_result::kind::error);
  CHECK(contains(both.error.get<std::string>(),
                 "msg='Only one of the parameters 'json' and 'body' can be passed'"));
}

TEST_CASE("std.http turns a status outside 200 to 306 into an error carrying the whole result") {
  http_sink sink;
  auto missing = http({{"url", sink.url("/missing")}});
  REQUIRE(missing.outcome == action_result::kind::error);
  CHECK(missing.error["status"] == 404);
  CHECK(missing.error["reason"] == "Not Found");
  CHECK(missing.error["content"] == json{{"error", "nope"}});
  auto teapot = http({{"url", sink.url("/teapot")}});
  CHECK(teapot.outcome == action_result::kind::error);
  CHECK(teapot.error["reason"] == "I'm a teapot");
  CHECK(teapot.error["encoding"] == "ISO-8859-1");
}

TEST_CASE("std.http does not follow redirects unless allow_redirects is set") {
  http_sink sink;
  auto found = http({{"url", sink.url("/redirect")}});
  CHECK(found.outcome == action_result::kind::success);
  CHECK(found.data["status"] == 302);
  auto temporary = http({{"url", sink.url("/temporary")}});
  CHECK(temporary.outcome == action_result::kind::error);
  CHECK(temporary.error["status"] == 307);
  auto followed = http({{"url", sink.url("/redirect")}, {"allow_redirects", true}});
  REQUIRE(followed.outcome == action_result::kind::success);
  CHECK(followed.data["status"] == 200);
  CHECK(followed.data["url"] == sink.url("/json"));
  CHECK(followed.data["history"] == json::array({"<Response [302]>"}));
}

TEST_CASE("std.http returns the cookies the response sets") {
  http_sink sink;
  auto r = http({{"url", sink.url("/cookies")}});
  REQUIRE(r.outcome == action_result::kind::success);
  CHECK(r.data["cookies"] == json{{"session", "abc"}, {"theme", "dark"}});
  CHECK(r.data["content"] == "");
}

TEST_CASE("std.http reports connection failures, bad URLs and bad auth as Mistral does") {
  int port = testing::free_port();
  auto refused = http({{"url", "http://127.0.0.1:" + std::to_string(port) + "/x"}});
  REQUIRE(refused.outcome == action_result::kind::error);
  std::string text = refused.error.get<std::string>();
  CHECK(
    text.rfind("The action raised an exception [action=<mistral.actions.std_actions.HTTPAction object at 0x",
               0) == 0);
  CHECK(contains(
    text,
    "action_ex_id=action-ex-1, msg='Failed to send HTTP request: HTTPConnectionPool(host='127.0.0.1', port=" +
      std::to_string(port) + "): Max retries exceeded with url: /x"));
  CHECK(contains(text, "Connection refused"));
  auto no_scheme = http({{"url", "example.com/x"}});
  CHECK(
    contains(no_scheme.error.get<std::string>(),
             "msg='Failed to send HTTP request: Invalid URL 'example.com/x': No scheme supplied. Perhaps you "
             "meant https://example.com/x?'"));
  auto no_adapter = http({{"url", "ftp://example.com/x"}});
  CHECK(contains(no_adapter.error.get<std::string>(),
                 "No connection adapters were found for 'ftp://example.com/x'"));
  http_sink sink;
  auto bad_auth = http({{"url", sink.url("/json")}, {"auth", "no-colon"}});
  CHECK(contains(bad_auth.error.get<std::string>(),
                 "msg='Failed to send HTTP request: 'str' object is not callable'"));
}

TEST_CASE("std.http gives up after its timeout and stops when cancelled") {
  http_sink sink;
  auto started = std::chrono::steady_clock::now();
  auto timed_out = http({{"url", sink.url("/slow")}, {"timeout", 0.5}});
  REQUIRE(timed_out.outcome == action_result::kind::error);
  CHECK(contains(timed_out.error.get<std::string>(), "Read timed out. (read timeout=0.5)"));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));

  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  auto cancelled = http({{"url", sink.url("/slow")}}, &cancel);
  canceller.join();
  CHECK(cancelled.outcome == action_result::kind::cancelled);
}

TEST_CASE("std.mistral_http adds the Mistral headers and stays running on success") {
  http_sink sink;
  auto run = run_std_action("std.mistral_http", {{"url", sink.url("/json")}, {"headers", {{"X-A", "b"}}}},
                            test_context());
  CHECK(run.async);
  std::string request = sink.last_request();
  CHECK(has_header(request, "X-A", "b"));
  CHECK(has_header(request, "Mistral-Workflow-Name", "my_wf"));
  CHECK(has_header(request, "Mistral-Workflow-Execution-Id", "wf-ex-1"));
  CHECK(has_header(request, "Mistral-Task-Id", "task-ex-1"));
  CHECK(has_header(request, "Mistral-Action-Execution-Id", "action-ex-1"));
  CHECK(
    has_header(request, "Mistral-Callback-URL", "http://127.0.0.1:8989/v2/action_executions/action-ex-1"));
}

TEST_CASE("std.mistral_http completes at once when the request fails") {
  http_sink sink;
  auto run = run_std_action("std.mistral_http", {{"url", sink.url("/missing")}}, test_context());
  CHECK_FALSE(run.async);
  CHECK(run.result.outcome == action_result::kind::error);
  CHECK(run.result.error["status"] == 404);
}

TEST_CASE("std.http over https checks certificates unless verify is false") {
  auto tls = testing::self_signed_context();
  tcp_test_server server([tls](int fd, const std::atomic<bool>& stopping) {
    SSL* ssl = SSL_new(tls.get());
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      std::string request;
      char buf[4096];
      while (!stopping && request.find("\r\n\r\n") == std::string::npos) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0)
          break;
        request.append(buf, static_cast<size_t>(n));
      }
      std::string reply = http_sink::response(200, "OK", "application/json", R"({"secure": true})");
      SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  });
  std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto unverified = http({{"url", url}, {"verify", false}, {"timeout", 20}});
  REQUIRE(unverified.outcome == action_result::kind::success);
  CHECK(unverified.data["content"] == json{{"secure", true}});
  CHECK(unverified.data["url"] == url);
  auto verified = http({{"url", url}, {"timeout", 20}});
  REQUIRE(verified.outcome == action_result::kind::error);
  CHECK(contains(verified.error.get<std::string>(),
                 "msg='Failed to send HTTP request: HTTPSConnectionPool(host='127.0.0.1'"));
}

TEST_CASE("std.mistral_http leaves out the Mistral headers it has no value for") {
  http_sink sink;
  action_context ctx;
  ctx.action_execution_id = "ax-2";
  auto run = run_std_action("std.mistral_http", {{"url", sink.url("/json")}}, ctx);
  CHECK(run.async);
  std::string request = sink.last_request();
  CHECK(has_header(request, "Mistral-Action-Execution-Id", "ax-2"));
  CHECK_FALSE(contains(request, "Mistral-Task-Id"));
  CHECK_FALSE(contains(request, "Mistral-Workflow-Name"));
}

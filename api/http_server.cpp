// The only translation unit that includes cpprest (it is heavy to compile).
#define _TURN_OFF_PLATFORM_STRING // cpprest's U() macro breaks templates elsewhere
#include "api/http_server.hpp"

#include <cpprest/http_listener.h>
#include <pplx/threadpool.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <optional>

namespace mistral::api {

namespace http = web::http;

struct http_server::impl {
  std::unique_ptr<http::experimental::listener::http_listener> listener;
  sink handle;
  bool open = false;
};

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

http_request convert(const http::http_request& in, std::string body) {
  http_request out;
  out.method = in.method();
  const auto& rel = in.relative_uri();
  out.path = percent_decode(rel.path(), false);
  out.query = parse_query(rel.query());
  for (const auto& [name, value] : in.headers()) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[lower] = value;
  }
  out.body = std::move(body);
  return out;
}

// cpprest sends whatever body it is given, also to a HEAD (RFC 9110 9.3.2
// forbids one): the client would read those bytes as the next response.
void send(const http::http_request& req, const http_response& resp, const std::string& connection) {
  http::http_response out(static_cast<http::status_code>(resp.status));
  for (const auto& [name, value] : resp.headers)
    out.headers().add(name, value);
  // A "Connection: close" here also makes cpprest close after writing, so the
  // header and the socket never disagree.
  if (!connection.empty())
    out.headers()[http::header_names::connection] = connection;
  if (req.method() == http::methods::HEAD || (resp.body.empty() && resp.content_type.empty())) {
    if (!resp.content_type.empty())
      out.headers()[http::header_names::content_type] = resp.content_type;
  } else {
    out.set_body(resp.body, resp.content_type);
  }
  // No continuation on reply's task: without Windows' HTTP server API it is
  // an already completed one (http_listener_msg.cpp, _reply_impl), and a
  // .then() on it is a post to the listener's thread and a wake-up for
  // nothing. A failed write is cpprest's business (it closes the connection).
  try {
    req.reply(out);
  } catch (...) {
    // A second reply to the same request: the first one stands.
  }
}

// Hands a request whose body has arrived (`available` is done) to the sink.
void forward(const http_server::sink& handle, const http::http_request& req,
             pplx::task<utility::size64_t>& available) {
  std::string body;
  try {
    available.get();
    body = req._get_impl()->extract_string(true);
  } catch (...) {
    // An unreadable body is treated as empty; the controller answers.
  }
  const auto version = req.http_version();
  auto connection = req.headers().find(http::header_names::connection);
  std::string answer = connection_header(
    version.major, version.minor,
    connection == req.headers().end() ? std::nullopt : std::optional<std::string>(connection->second));
  handle(convert(req, std::move(body)), [req, answer](http_response resp) { send(req, resp, answer); });
}

void ensure_pool(int threads) {
  static std::once_flag once;
  std::call_once(once, [threads] { crossplat::threadpool::initialize_with_threads(threads); });
}

} // namespace

std::string connection_header(int major, int minor, const std::optional<std::string>& request_connection) {
  // The asio listener (http_server_asio.cpp, handle_http_line/handle_headers)
  // closes after the answer when the request's Connection header is exactly
  // "close" (trimmed, any case), or when an HTTP/1.0 request has no Connection
  // header. It never says so in the answer, so a client that asked for close
  // but got an HTTP/1.1 answer without "Connection: close" keeps the socket
  // and may send its next request into the closing connection: Python's
  // http.client then raises RemoteDisconnected (tempest's ClosingHttp sends
  // "connection: close" on every request and reuses the pooled socket).
  // We answer "close" for any close token, which makes cpprest close as well.
  if (request_connection) {
    std::string tokens = *request_connection;
    std::transform(tokens.begin(), tokens.end(), tokens.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    bool close = false;
    bool keep_alive = false;
    for (std::size_t start = 0; start <= tokens.size();) {
      std::size_t end = std::min(tokens.find(',', start), tokens.size());
      std::string token = tokens.substr(start, end - start);
      token.erase(0, token.find_first_not_of(" \t"));
      token.erase(token.find_last_not_of(" \t") + 1);
      close = close || token == "close";
      keep_alive = keep_alive || token == "keep-alive";
      start = end + 1;
    }
    if (close)
      return "close";
    // cpprest keeps an HTTP/1.0 connection that asks for keep-alive; a 1.0
    // client only reuses it when the answer says so.
    if (keep_alive && major == 1 && minor == 0)
      return "keep-alive";
    return "";
  }
  if (major < 1 || (major == 1 && minor == 0))
    return "close";
  return "";
}

std::string percent_decode(const std::string& text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(const std::string& raw) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= raw.size()) {
    std::size_t end = raw.find_first_of("&;", start);
    if (end == std::string::npos)
      end = raw.size();
    std::string part = raw.substr(start, end - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      std::string key = part.substr(0, eq);
      std::string value = eq == std::string::npos ? std::string() : part.substr(eq + 1);
      out.emplace_back(percent_decode(key, true), percent_decode(value, true));
    }
    start = end + 1;
  }
  return out;
}

http_server::http_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

http_server::~http_server() {
  stop();
}

result<std::unique_ptr<http_server>> http_server::start(const std::string& host, std::uint16_t port, sink s,
                                                        int threads) {
  ensure_pool(threads);
  auto state = std::make_unique<impl>();
  state->handle = std::move(s);
  std::string url = "http://" + host + ":" + std::to_string(port);
  try {
    state->listener = std::make_unique<http::experimental::listener::http_listener>(url);
    auto* raw = state.get();
    auto handler = [raw](http::http_request req) {
      // The body is complete at once for a request without one, later for
      // one with a body. Read it as soon as it is there: one continuation at
      // most (extract_string().then takes two), none when it is there.
      auto available = pplx::create_task(req._get_impl()->_get_data_available());
      if (available.is_done())
        return forward(raw->handle, req, available);
      available.then([raw, req](pplx::task<utility::size64_t> done) { forward(raw->handle, req, done); });
    };
    state->listener->support(handler);
    // The catch-all above does not see OPTIONS and TRACE: cpprest answers them
    // itself, without our Connection header, unless they are named.
    state->listener->support(http::methods::OPTIONS, handler);
    state->listener->support(http::methods::TRCE, handler);
    state->listener->open().wait();
    state->open = true;
  } catch (const std::exception& e) {
    return error(errc::unavailable, "cannot listen on " + url + ": " + e.what());
  }
  return std::unique_ptr<http_server>(new http_server(std::move(state)));
}

void http_server::stop() {
  if (!impl_ || !impl_->open)
    return;
  impl_->open = false;
  try {
    impl_->listener->close().wait();
  } catch (...) {
    // Closing a listener that failed mid-way must not throw out of a destructor.
  }
}

} // namespace mistral::api

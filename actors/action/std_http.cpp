// std.http and std.mistral_http: Mistral's HTTPAction, i.e. one
// requests.request() call, on cpprest's http_client.

#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/http_client.h>

#include "actors/action/std_support.hpp"
#include "common/py_json.hpp"
#include "dsl/expr/py_value.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <future>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

namespace mistral::action::detail {

namespace {

namespace http = web::http;

/// Without a `timeout` input requests waits forever; a server must not, so
/// this is the longest one request may take.
constexpr double default_timeout_seconds = 600;

/// How many redirects requests follows before giving up.
constexpr int max_redirects = 30;

/// The parts of a URL requests cares about.
struct split_url {
  std::string scheme; ///< lower case
  std::string host;   ///< as written (IPv6 keeps its brackets)
  std::optional<int> port;
  std::string resource; ///< path (at least "/") + "?query"
  std::string fragment;

  int effective_port() const { return port.value_or(scheme == "https" ? 443 : 80); }
  std::string authority() const { return host + (port ? ":" + std::to_string(*port) : ""); }
  std::string str() const { return scheme + "://" + authority() + resource + fragment; }
};

/// requote_uri: percent-encodes what may not appear in a URL, keeping existing escapes.
std::string requote(std::string_view s) {
  static constexpr std::string_view safe = "!#$%&'()*+,/:;=?@[]~-._";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || safe.find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

/// urllib's quote_plus for form encoding.
std::string quote_plus(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || ch == '_' || ch == '.' || ch == '-' || ch == '~') {
      out += ch;
    } else if (ch == ' ') {
      out += '+';
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

/// requests' _encode_params: dicts and lists of pairs become a form-encoded
/// string, lists as values repeat the key, None values are left out.
std::string encode_params(const json& params) {
  if (params.is_string())
    return params.get<std::string>();
  std::vector<std::pair<std::string, json>> pairs;
  if (params.is_object()) {
    for (const auto& [k, v] : params.items())
      pairs.emplace_back(k, v);
  } else if (params.is_array()) {
    for (const auto& item : params) {
      if (!item.is_array() || item.size() != 2)
        throw action_error("too many values to unpack (expected 2)");
      pairs.emplace_back(expr::py_str(item[0]), item[1]);
    }
  } else {
    return expr::py_str(params);
  }
  std::string out;
  auto add = [&](const std::string& k, const json& v) {
    if (v.is_null())
      return;
    if (!out.empty())
      out += '&';
    out += quote_plus(k) + "=" + quote_plus(expr::py_str(v));
  };
  for (const auto& [k, v] : pairs) {
    if (v.is_array())
      for (const auto& item : v)
        add(k, item);
    else
      add(k, v);
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// requests' URL preparation, with its error texts.
split_url prepare_url(std::string url, const std::string& query_extra) {
  auto first = url.find_first_not_of(" \t\r\n");
  url = first == std::string::npos ? "" : url.substr(first);
  auto sep = url.find("://");
  if (sep == std::string::npos) {
    if (url.find(':') != std::string::npos && lower(url).rfind("http", 0) != 0)
      throw action_error("No connection adapters were found for " + expr::py_repr(url));
    throw action_error("Invalid URL " + expr::py_repr(url) +
                       ": No scheme supplied. Perhaps you meant https://" + url + "?");
  }
  split_url u;
  u.scheme = lower(url.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https")
    throw action_error("No connection adapters were found for " + expr::py_repr(url));
  std::string rest = url.substr(sep + 3);
  auto path_at = rest.find_first_of("/?#");
  std::string netloc = rest.substr(0, path_at);
  std::string tail = path_at == std::string::npos ? "" : rest.substr(path_at);
  if (auto at = netloc.rfind('@'); at != std::string::npos)
    netloc = netloc.substr(at + 1); // credentials in the URL are not supported; dropped
  std::string port_text;
  if (!netloc.empty() && netloc[0] == '[') {
    auto close = netloc.find(']');
    u.host = netloc.substr(0, close == std::string::npos ? netloc.size() : close + 1);
    if (close != std::string::npos && close + 1 < netloc.size() && netloc[close + 1] == ':')
      port_text = netloc.substr(close + 2);
  } else {
    auto colon = netloc.rfind(':');
    u.host = netloc.substr(0, colon);
    if (colon != std::string::npos)
      port_text = netloc.substr(colon + 1);
  }
  if (u.host.empty())
    throw action_error("Invalid URL " + expr::py_repr(url) + ": No host supplied");
  if (!port_text.empty()) {
    if (port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5 ||
        std::stoi(port_text) > 65535)
      throw action_error("Failed to parse: " + url);
    u.port = std::stoi(port_text);
  }
  auto hash = tail.find('#');
  if (hash != std::string::npos) {
    u.fragment = tail.substr(hash);
    tail = tail.substr(0, hash);
  }
  auto q = tail.find('?');
  std::string path = tail.substr(0, q);
  std::string query = q == std::string::npos ? "" : tail.substr(q + 1);
  if (!query_extra.empty())
    query = query.empty() ? query_extra : query + "&" + query_extra;
  u.resource = requote((path.empty() ? "/" : path) + (query.empty() ? "" : "?" + query));
  u.fragment = requote(u.fragment);
  return u;
}

/// The request as requests would send it, before any redirect.
struct request_plan {
  std::string method;
  split_url url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body;
  std::optional<std::pair<std::string, std::string>> basic_auth;
  double connect_timeout = default_timeout_seconds;
  double read_timeout = default_timeout_seconds;
  bool allow_redirects = false;
  json proxies;
  json verify;
};

bool has_header(const request_plan& plan, const std::string& name) {
  for (const auto& [k, v] : plan.headers)
    if (lower(k) == lower(name))
      return true;
  return false;
}

/// str(v) for a header value as HTTPAction converts it (numbers and bools via str()).
std::string header_value(const std::string& name, const json& v) {
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_number() || v.is_boolean())
    return expr::py_str(v);
  throw action_error("Header part (" + expr::py_repr(v) + ") from (" + expr::py_repr(name) + ", " +
                     expr::py_repr(v) + ") must be of type str or bytes, not <class '" + py_type_name(v) +
                     "'>");
}

double timeout_seconds(const json& v) {
  if (v.is_number())
    return v.get<double>() > 0 ? v.get<double>() : 0.001;
  if (v.is_string()) {
    try {
      return std::stod(v.get<std::string>());
    } catch (const std::exception&) {
    }
  }
  throw action_error("Timeout value connect was " + expr::py_str(v) +
                     ", but it must be an int, float or None.");
}

/// What requests.request() does before sending; the caller prefixes its errors as HTTPAction does.
request_plan plan_request(const json& input) {
  request_plan plan;
  json body = arg(input, "body");
  json json_body = arg(input, "json");

  json method = arg(input, "method", "GET");
  plan.method = method.is_null() ? "GET" : expr::py_str(method);
  for (auto& c : plan.method)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  json params = arg(input, "params");
  plan.url = prepare_url(expr::py_str(arg(input, "url", "")), params.is_null() ? "" : encode_params(params));

  plan.headers = {{"User-Agent", "python-requests/2.34.2"}, {"Accept", "*/*"}};
  json headers = arg(input, "headers");
  if (headers.is_object()) {
    for (const auto& [k, v] : headers.items()) {
      std::erase_if(plan.headers, [&](const auto& h) { return lower(h.first) == lower(k); });
      if (!v.is_null())
        plan.headers.emplace_back(k, header_value(k, v));
    }
  }

  json cookies = arg(input, "cookies");
  if (cookies.is_object() && !cookies.empty() && !has_header(plan, "Cookie")) {
    std::string line;
    for (const auto& [k, v] : cookies.items()) {
      if (v.is_null())
        continue;
      line += (line.empty() ? "" : "; ") + k + "=" + expr::py_str(v);
    }
    if (!line.empty())
      plan.headers.emplace_back("Cookie", line);
  }

  json auth = arg(input, "auth");
  if (expr::py_truthy(auth)) {
    std::string text = auth.is_string() ? auth.get<std::string>() : "";
    auto colon = text.find(':');
    if (!auth.is_string() || colon == std::string::npos || text.find(':', colon + 1) != std::string::npos)
      throw action_error("'" + py_type_name(auth) + "' object is not callable");
    plan.basic_auth = std::make_pair(text.substr(0, colon), text.substr(colon + 1));
  }

  // A dict body is sent as its JSON text; other bodies as they are.
  if (expr::py_truthy(body)) {
    if (body.is_object())
      plan.body = python_json_dumps(body);
    else if (body.is_array()) {
      plan.body = encode_params(body);
      plan.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    } else
      plan.body = expr::py_str(body);
  } else if (!json_body.is_null()) {
    plan.body = python_json_dumps(json_body);
    if (!has_header(plan, "Content-Type"))
      plan.headers.emplace_back("Content-Type", "application/json");
  }

  json timeout = arg(input, "timeout");
  if (timeout.is_array() && timeout.size() == 2) {
    if (!timeout[0].is_null())
      plan.connect_timeout = timeout_seconds(timeout[0]);
    if (!timeout[1].is_null())
      plan.read_timeout = timeout_seconds(timeout[1]);
  } else if (!timeout.is_null()) {
    plan.connect_timeout = plan.read_timeout = timeout_seconds(timeout);
  }
  // HTTPAction passes allow_redirects=None by default, which requests reads as "do not follow".
  plan.allow_redirects = expr::py_truthy(arg(input, "allow_redirects"));
  plan.proxies = arg(input, "proxies");
  plan.verify = arg(input, "verify");
  return plan;
}

/// requests' connection-pool name for error texts.
std::string pool_name(const split_url& u) {
  std::string host = u.host;
  if (host.size() > 1 && host.front() == '[')
    host = host.substr(1, host.size() - 2);
  return std::string(u.scheme == "https" ? "HTTPSConnectionPool" : "HTTPConnectionPool") +
         "(host=" + expr::py_repr(host) + ", port=" + std::to_string(u.effective_port()) + ")";
}

std::string seconds_text(double s) {
  return s == static_cast<long long>(s) && s < 1e15 ? std::to_string(static_cast<long long>(s))
                                                    : python_float_repr(s);
}

struct send_failure {
  std::string text;
};

/// Waits for a cpprest task, polling `cancel`; nullopt when cancelled.
template <typename T>
std::optional<T> await(pplx::task<T> task, pplx::cancellation_token_source& cts, double limit_seconds,
                       const std::atomic<bool>* cancel, bool& timed_out) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  task.then([promise](pplx::task<T> t) {
    try {
      promise->set_value(t.get());
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  auto deadline =
    std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                         std::chrono::duration<double>(limit_seconds + 1.0));
  while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (cancelled(cancel) || std::chrono::steady_clock::now() > deadline) {
      timed_out = !cancelled(cancel);
      cts.cancel();
      // cpprest completes cancelled tasks promptly; don't wait on it forever either.
      future.wait_for(std::chrono::seconds(5));
      return std::nullopt;
    }
  }
  return future.get();
}

/// The outcome of one HTTP exchange.
struct exchange {
  http::http_response response;
  std::vector<unsigned char> body;
  double elapsed = 0;
};

std::string error_text(const request_plan& plan, const split_url& url, const std::exception& e) {
  const auto* he = dynamic_cast<const http::http_exception*>(&e);
  std::string what = e.what();
  int code = he != nullptr ? he->error_code().value() : 0;
  std::string lw = lower(what);
  if (lw.find("timed out") != std::string::npos || lw.find("timeout") != std::string::npos ||
      code == ETIMEDOUT)
    return pool_name(url) + ": Read timed out. (read timeout=" + seconds_text(plan.read_timeout) + ")";
  if (code == ECONNREFUSED || lw.find("refused") != std::string::npos ||
      lw.find("failed to connect") != std::string::npos)
    return pool_name(url) + ": Max retries exceeded with url: " + url.resource +
           " (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object>: Failed to establish "
           "a new connection: [Errno 111] Connection refused'))";
  if (lw.find("resolv") != std::string::npos || lw.find("host not found") != std::string::npos)
    return pool_name(url) + ": Max retries exceeded with url: " + url.resource +
           " (Caused by NameResolutionError(\"<urllib3.connection.HTTPConnection object>: Failed to resolve "
           "'" +
           url.host + "' ([Errno -2] Name or service not known)\"))";
  return pool_name(url) + ": Max retries exceeded with url: " + url.resource + " (Caused by " + what + ")";
}

http::client::http_client_config client_config(const request_plan& plan, const split_url& url) {
  http::client::http_client_config cfg;
  // Redirects are followed (or not) by run_http, as requests does, keeping the history.
  cfg.set_max_redirects(0);
  cfg.set_timeout(std::chrono::milliseconds(
    static_cast<long long>(std::max(plan.connect_timeout, plan.read_timeout) * 1000.0)));
  if (plan.proxies.is_object()) {
    for (const char* key : {url.scheme.c_str(), "all"}) {
      auto it = plan.proxies.find(key);
      if (it != plan.proxies.end() && it->is_string()) {
        cfg.set_proxy(web::web_proxy(web::uri(it->get<std::string>())));
        break;
      }
    }
  }
  // verify only matters for https, as in HTTPAction.
  if (url.scheme == "https" && !plan.verify.is_null()) {
    if (plan.verify.is_boolean() && !plan.verify.get<bool>()) {
      cfg.set_validate_certificates(false);
    } else if (plan.verify.is_string()) {
      std::string ca = plan.verify.get<std::string>();
      cfg.set_ssl_context_callback([ca](boost::asio::ssl::context& ctx) { ctx.load_verify_file(ca); });
    }
  }
  return cfg;
}

/// One request/response, without following redirects.
std::variant<exchange, send_failure, std::monostate> send_once(const request_plan& plan, const split_url& url,
                                                               const std::string& method,
                                                               const std::optional<std::string>& body,
                                                               const std::atomic<bool>* cancel) {
  try {
    http::client::http_client client(web::uri(url.scheme + "://" + url.authority()),
                                     client_config(plan, url));
    http::http_request msg(method);
    msg.set_request_uri(web::uri(url.resource));
    for (const auto& [k, v] : plan.headers)
      msg.headers().add(k, v);
    if (plan.basic_auth && !has_header(plan, "Authorization"))
      msg.headers().add("Authorization",
                        "Basic " + base64_encode(plan.basic_auth->first + ":" + plan.basic_auth->second));
    if (body) {
      std::string content_type;
      msg.headers().match("Content-Type", content_type);
      msg.set_body(*body, content_type.empty() ? "" : content_type);
      if (content_type.empty())
        msg.headers().remove("Content-Type");
    } else if (method != "GET" && method != "HEAD") {
      msg.headers().set_content_length(0);
    }
    pplx::cancellation_token_source cts;
    auto started = std::chrono::steady_clock::now();
    bool timed_out = false;
    double limit = plan.connect_timeout + plan.read_timeout;
    auto response = await(client.request(msg, cts.get_token()), cts, limit, cancel, timed_out);
    if (!response) {
      if (timed_out)
        return send_failure{pool_name(url) +
                            ": Read timed out. (read timeout=" + seconds_text(plan.read_timeout) + ")"};
      return std::monostate{};
    }
    exchange ex;
    ex.elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ex.response = *response;
    auto bytes = await(ex.response.extract_vector(), cts, plan.read_timeout, cancel, timed_out);
    if (!bytes) {
      if (timed_out)
        return send_failure{pool_name(url) +
                            ": Read timed out. (read timeout=" + seconds_text(plan.read_timeout) + ")"};
      return std::monostate{};
    }
    ex.body = std::move(*bytes);
    return ex;
  } catch (const std::exception& e) {
    return send_failure{error_text(plan, url, e)};
  }
}

/// requests' get_encoding_from_headers.
json response_encoding(const http::http_headers& headers) {
  std::string content_type;
  if (!headers.match("Content-Type", content_type))
    return nullptr;
  std::string lc = lower(content_type);
  auto pos = lc.find("charset=");
  if (pos != std::string::npos) {
    std::string value = content_type.substr(pos + 8);
    value = value.substr(0, value.find(';'));
    while (!value.empty() && (value.back() == ' ' || value.back() == '"' || value.back() == '\''))
      value.pop_back();
    while (!value.empty() && (value.front() == ' ' || value.front() == '"' || value.front() == '\''))
      value.erase(0, 1);
    return value;
  }
  if (lc.find("text") != std::string::npos)
    return "ISO-8859-1";
  if (lc.find("application/json") != std::string::npos)
    return "utf-8";
  return nullptr;
}

/// The body as text in its declared encoding (latin-1 or, for everything else, UTF-8).
std::string body_text(const std::vector<unsigned char>& body, const json& encoding) {
  std::string_view raw(reinterpret_cast<const char*>(body.data()), body.size());
  std::string enc = encoding.is_string() ? lower(encoding.get<std::string>()) : "";
  if (enc == "iso-8859-1" || enc == "latin-1" || enc == "latin1" || enc == "l1")
    return latin1_to_utf8(raw);
  return valid_utf8(raw);
}

/// Splits Set-Cookie values that cpprest joined with ", " (Expires dates contain commas too).
json response_cookies(const http::http_headers& headers) {
  json cookies = json::object();
  std::string joined;
  if (!headers.match("Set-Cookie", joined))
    return cookies;
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i + 1 < joined.size(); ++i) {
    if (joined[i] != ',' || joined[i + 1] != ' ')
      continue;
    // A new cookie starts with "name=" and no ';' or ' ' before the '='.
    auto eq = joined.find('=', i + 2);
    auto stop = joined.find_first_of("; ,", i + 2);
    if (eq != std::string::npos && (stop == std::string::npos || eq < stop)) {
      parts.push_back(joined.substr(start, i - start));
      start = i + 2;
    }
  }
  parts.push_back(joined.substr(start));
  for (const auto& part : parts) {
    std::string pair = part.substr(0, part.find(';'));
    auto eq = pair.find('=');
    if (eq == std::string::npos)
      continue;
    auto trim = [](std::string s) {
      auto b = s.find_first_not_of(' ');
      auto e = s.find_last_not_of(' ');
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    std::string value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    cookies[valid_utf8(trim(pair.substr(0, eq)))] = valid_utf8(value);
  }
  return cookies;
}

json result_of(const exchange& ex, const split_url& url, json history) {
  const auto& headers = ex.response.headers();
  json encoding = response_encoding(headers);
  std::string text = body_text(ex.body, encoding);
  json content = json::parse(text, nullptr, false);
  if (content.is_discarded())
    content = text;
  json header_dict = json::object();
  for (const auto& [k, v] : headers)
    header_dict[valid_utf8(k)] = valid_utf8(v);
  return json{{"content", std::move(content)},
              {"status", ex.response.status_code()},
              {"headers", std::move(header_dict)},
              {"url", url.str()},
              {"history", std::move(history)},
              {"encoding", std::move(encoding)},
              {"reason", valid_utf8(ex.response.reason_phrase())},
              {"cookies", response_cookies(headers)},
              {"elapsed", ex.elapsed}};
}

/// Where a redirect points, resolved against the current URL.
split_url redirect_target(const split_url& from, std::string location) {
  if (location.rfind("//", 0) == 0)
    return prepare_url(from.scheme + ":" + location, "");
  if (location.find("://") != std::string::npos)
    return prepare_url(location, "");
  std::string base = from.scheme + "://" + from.authority();
  if (!location.empty() && location[0] == '/')
    return prepare_url(base + location, "");
  std::string path = from.resource.substr(0, from.resource.find('?'));
  return prepare_url(base + path.substr(0, path.rfind('/') + 1) + location, "");
}

} // namespace

action_result run_http(const json& input, const action_context&, const std::atomic<bool>* cancel) {
  // HTTPAction.__init__ refuses this before any request is made.
  if (expr::py_truthy(arg(input, "body")) && expr::py_truthy(arg(input, "json")))
    throw action_error("Only one of the parameters 'json' and 'body' can be passed");
  request_plan plan;
  try {
    plan = plan_request(input);
  } catch (const action_error& e) {
    throw action_error(std::string("Failed to send HTTP request: ") + e.what());
  }
  split_url url = plan.url;
  std::string method = plan.method;
  std::optional<std::string> body = plan.body;
  json history = json::array();
  for (int hop = 0;; ++hop) {
    auto outcome = send_once(plan, url, method, body, cancel);
    if (std::holds_alternative<std::monostate>(outcome))
      return cancelled_result();
    if (auto* failure = std::get_if<send_failure>(&outcome))
      throw action_error("Failed to send HTTP request: " + failure->text);
    auto& ex = std::get<exchange>(outcome);
    int status = ex.response.status_code();
    std::string location;
    bool redirect = (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) &&
                    ex.response.headers().match("Location", location);
    if (plan.allow_redirects && redirect) {
      if (hop + 1 > max_redirects)
        throw action_error("Failed to send HTTP request: Exceeded " + std::to_string(max_redirects) +
                           " redirects.");
      history.push_back("<Response [" + std::to_string(status) + "]>");
      // requests' rebuild_method: 303 (and 302, and 301 after POST) turn into a GET without a body.
      if ((status == 303 && method != "HEAD") || (status == 302 && method != "HEAD") ||
          (status == 301 && method == "POST")) {
        method = "GET";
        body.reset();
      }
      url = redirect_target(url, location);
      continue;
    }
    json result = result_of(ex, url, std::move(history));
    if (status < 200 || status > 306)
      return action_result::failed(std::move(result));
    return action_result::ok(std::move(result));
  }
}

action_result run_mistral_http(const json& input, const action_context& ctx,
                               const std::atomic<bool>* cancel) {
  json with_headers = input;
  json headers = arg(input, "headers");
  if (!headers.is_object())
    headers = json::object();
  // requests drops headers whose value is None, which is what an unset field is.
  auto put = [&](const char* name, const std::string& value) {
    if (value.empty())
      headers.erase(name);
    else
      headers[name] = value;
  };
  put("Mistral-Workflow-Name", ctx.workflow_name);
  put("Mistral-Workflow-Execution-Id", ctx.workflow_execution_id);
  put("Mistral-Task-Id", ctx.task_execution_id);
  put("Mistral-Action-Execution-Id", ctx.action_execution_id);
  put("Mistral-Callback-URL", ctx.callback_url);
  with_headers["headers"] = std::move(headers);
  return run_http(with_headers, ctx, cancel);
}

} // namespace mistral::action::detail

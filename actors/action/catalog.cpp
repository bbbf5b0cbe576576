#include "actors/action/catalog.hpp"

#include <algorithm>

namespace mistral::action {

namespace {

// Generated from the reference: mistral.actions.legacy.LegacyActionProvider
// find_all() (name, action_class_name, params_spec, is_sync, description).
const std::vector<std_action>& catalog() {
  static const std::vector<std_action> rows = {
    {"std.async_noop", "mistral.actions.std_actions.AsyncNoOpAction", "", false,
     "Asynchronous no-operation action."},
    {"std.echo", "mistral.actions.std_actions.EchoAction", "output, delay=0", true,
     "Echo action.\n"
     "\n"
     "This action just returns a configured value as a result without doing\n"
     "anything else. The value of such action implementation is that it\n"
     "can be used in development (for testing), demonstration and designing\n"
     "of workflows themselves where echo action can play the role of temporary\n"
     "stub."},
    {"std.email", "mistral.actions.std_actions.SendEmailAction",
     "from_addr, to_addrs, smtp_server, reply_to=null, cc_addrs=null, bcc_addrs=null, smtp_password=null, "
     "subject=null, body=null, html_body=null",
     true,
     "Action.\n"
     "\n"
     "Action is a means in Mistral to perform some useful work associated with\n"
     "a workflow during its execution. Every workflow task is configured with\n"
     "an action and when the task runs it eventually delegates to the action.\n"
     "When it happens task parameters get evaluated (calculating expressions,\n"
     "if any) and are treated as action parameters. So in a regular general\n"
     "purpose languages terminology action is a method declaration and task is\n"
     "a method call.\n"
     "\n"
     "Base action class initializer doesn't have arguments. However, concrete\n"
     "action classes may have any number of parameters defining action behavior.\n"
     "These parameters must correspond to parameters declared in action\n"
     "specification (e.g. using DSL or others)."},
    {"std.fail", "mistral.actions.std_actions.FailAction", "error_data=null", true,
     "'Always fail' action.\n"
     "\n"
     "If you pass the `error_data` parameter, this action will be failed and\n"
     "return this data as error data. Otherwise, the action just throws an\n"
     "instance of ActionException.\n"
     "\n"
     "This behavior is useful in a number of cases, especially if we need to\n"
     "test a scenario where some of workflow tasks fail.\n"
     "\n"
     ":param error_data: Action will be failed with this data"},
    {"std.http", "mistral.actions.std_actions.HTTPAction",
     "url, method=\"GET\", params=null, body=null, json=null, headers=null, cookies=null, auth=null, "
     "timeout=null, allow_redirects=null, proxies=null, verify=null",
     true,
     "HTTP action.\n"
     "\n"
     ":param url: URL for the new HTTP request.\n"
     ":param method: (optional, 'GET' by default) method for the new HTTP\n"
     "    request.\n"
     ":param params: (optional) Dictionary or bytes to be sent in the\n"
     "    query string for the HTTP request.\n"
     ":param body: (optional) Dictionary, bytes, or file-like object to send\n"
     "    in the body of the HTTP request.\n"
     ":param json: (optional) A JSON serializable Python object to send\n"
     "    in the body of the HTTP request.\n"
     ":param headers: (optional) Dictionary of HTTP Headers to send with\n"
     "    the HTTP request.\n"
     ":param cookies: (optional) Dict or CookieJar object to send with\n"
     "    the HTTP request.\n"
     ":param auth: (optional) Auth tuple to enable Basic/Digest/Custom\n"
     "    HTTP Auth.\n"
     ":param timeout: (optional) Float describing the timeout of the request\n"
     "    in seconds.\n"
     ":param allow_redirects: (optional) Boolean. Set to True if POST/PUT/DELETE\n"
     "    redirect following is allowed.\n"
     ":param proxies: (optional) Dictionary mapping protocol to the URL of\n"
     "    the proxy.\n"
     ":param verify: (optional) if ``True``, the SSL cert will be verified.\n"
     "    A CA_BUNDLE path can also be provided."},
    {"std.javascript", "mistral.actions.std_actions.JavaScriptAction", "script, context=null", true,
     "Evaluates given JavaScript.\n"
     "\n"
     "    "},
    {"std.js", "mistral.actions.std_actions.JavaScriptAction", "script, context=null", true,
     "Evaluates given JavaScript.\n"
     "\n"
     "    "},
    {"std.mistral_http", "mistral.actions.std_actions.MistralHTTPAction",
     "url, method=\"GET\", params=null, body=null, json=null, headers=null, cookies=null, auth=null, "
     "timeout=null, allow_redirects=null, proxies=null, verify=null",
     false,
     "HTTP action.\n"
     "\n"
     ":param url: URL for the new HTTP request.\n"
     ":param method: (optional, 'GET' by default) method for the new HTTP\n"
     "    request.\n"
     ":param params: (optional) Dictionary or bytes to be sent in the\n"
     "    query string for the HTTP request.\n"
     ":param body: (optional) Dictionary, bytes, or file-like object to send\n"
     "    in the body of the HTTP request.\n"
     ":param json: (optional) A JSON serializable Python object to send\n"
     "    in the body of the HTTP request.\n"
     ":param headers: (optional) Dictionary of HTTP Headers to send with\n"
     "    the HTTP request.\n"
     ":param cookies: (optional) Dict or CookieJar object to send with\n"
     "    the HTTP request.\n"
     ":param auth: (optional) Auth tuple to enable Basic/Digest/Custom\n"
     "    HTTP Auth.\n"
     ":param timeout: (optional) Float describing the timeout of the request\n"
     "    in seconds.\n"
     ":param allow_redirects: (optional) Boolean. Set to True if POST/PUT/DELETE\n"
     "    redirect following is allowed.\n"
     ":param proxies: (optional) Dictionary mapping protocol to the URL of\n"
     "    the proxy.\n"
     ":param verify: (optional) if ``True``, the SSL cert will be verified.\n"
     "    A CA_BUNDLE path can also be provided."},
    {"std.noop", "mistral.actions.std_actions.NoOpAction", "", true,
     "No-operation action.\n"
     "\n"
     "This action does nothing. It can be mostly useful for testing and\n"
     "debugging purposes."},
    {"std.sleep", "mistral.actions.std_actions.SleepAction", "seconds=1", true,
     "Sleep action.\n"
     "\n"
     "This action sleeps for given amount of seconds. It can be mostly useful\n"
     "for testing and debugging purposes."},
    {"std.ssh", "mistral.actions.std_actions.SSHAction",
     "cmd, host, username, password=\"\", private_key_filename=null, private_key=null", true,
     "Runs Secure Shell (SSH) command on provided single or multiple hosts.\n"
     "\n"
     "It is allowed to provide either a single host or a list of hosts in\n"
     "action parameter 'host'. In case of a single host the action result\n"
     "will be a single value, otherwise a list of results provided in the\n"
     "same order as provided hosts."},
    {"std.ssh_proxied", "mistral.actions.std_actions.SSHProxiedAction",
     "cmd, host, username, private_key_filename, gateway_host, gateway_username=null, password=null, "
     "proxy_command=null, private_key=null",
     true,
     "Runs Secure Shell (SSH) command on provided single or multiple hosts.\n"
     "\n"
     "It is allowed to provide either a single host or a list of hosts in\n"
     "action parameter 'host'. In case of a single host the action result\n"
     "will be a single value, otherwise a list of results provided in the\n"
     "same order as provided hosts."},
    {"std.test_dict", "mistral.actions.std_actions.TestDictAction", "size=0, key_prefix=\"\", val=\"\"", true,
     "Generates test dict."},
  };
  return rows;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// Python's repr() of a str, enough for parameter names.
std::string py_str_repr(const std::string& s) {
  char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

std::string py_list_repr(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + py_str_repr(items[i]);
  return out + "]";
}

} // namespace

const std::vector<std_action>& std_actions() {
  return catalog();
}

const std_action* find_std_action(std::string_view name) {
  const auto& rows = catalog();
  auto it = std::find_if(rows.begin(), rows.end(), [&](const std_action& a) { return a.name == name; });
  return it == rows.end() ? nullptr : &*it;
}

const std::string& wait_ssh_definition() {
  static const std::string text = "---\n"
                                  "version: '2.0'\n"
                                  "\n"
                                  "std.wait_ssh:\n"
                                  "    description: Simple SSH command.\n"
                                  "    base: std.ssh\n"
                                  "    base-input:\n"
                                  "      host: <% $.host %>\n"
                                  "      username: <% $.username %>\n"
                                  "      password: <% $.password %>\n"
                                  "      cmd: 'ls -l'\n"
                                  "    input:\n"
                                  "     - host\n"
                                  "     - username\n"
                                  "     - password\n";
  return text;
}

std::vector<param_spec> parse_param_spec(std::string_view spec) {
  std::vector<param_spec> out;
  if (spec.empty())
    return out;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto comma = spec.find(',', start);
    if (comma == std::string_view::npos)
      comma = spec.size();
    std::string_view item = trim(spec.substr(start, comma - start));
    start = comma + 1;
    param_spec p;
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      p.name = std::string(item);
    } else {
      // Like the Python split('='): the value ends at a second '='.
      p.name = std::string(item.substr(0, eq));
      std::string_view rest = item.substr(eq + 1);
      rest = rest.substr(0, rest.find('='));
      json v = json::parse(rest.begin(), rest.end(), nullptr, false);
      p.default_value = v.is_discarded() ? json(std::string(rest)) : v;
    }
    auto same = std::find_if(out.begin(), out.end(), [&](const param_spec& q) { return q.name == p.name; });
    if (same != out.end())
      *same = std::move(p);
    else
      out.push_back(std::move(p));
  }
  return out;
}

std::optional<std::string> check_input(std::string_view name, std::string_view class_name,
                                       std::string_view spec, const json& input) {
  if (spec.find("**") != std::string_view::npos)
    return std::nullopt;
  std::vector<std::string> unexpected;
  if (input.is_object())
    for (auto it = input.begin(); it != input.end(); ++it)
      unexpected.push_back(it.key());
  std::vector<std::string> missing;
  for (const auto& p : parse_param_spec(spec)) {
    auto pos = std::find(unexpected.begin(), unexpected.end(), p.name);
    if (!p.default_value && pos == unexpected.end())
      missing.push_back(p.name);
    if (pos != unexpected.end())
      unexpected.erase(pos);
  }
  if (missing.empty() && unexpected.empty())
    return std::nullopt;
  std::string msg = "Invalid input [name=" + std::string(name) + ", class=" + std::string(class_name);
  if (!missing.empty())
    msg += ", missing=" + py_list_repr(missing);
  if (!unexpected.empty())
    msg += ", unexpected=" + py_list_repr(unexpected);
  return msg + "]";
}

std::optional<std::string> check_input(const std_action& action, const json& input) {
  return check_input(action.name, action.class_name, action.input, input);
}

} // namespace mistral::action

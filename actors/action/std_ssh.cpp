// std.ssh and std.ssh_proxied: Mistral's SSHAction / SSHProxiedAction
// (mistral/utils/ssh_utils.py on paramiko) on libssh.
//
// Like paramiko's AutoAddPolicy, host keys are accepted without checking.
// Hosts may carry a port ("host:2222", "[::1]:2222"): paramiko would refuse
// such a name, so this only adds to what Mistral accepts.

#include "actors/action/std_support.hpp"
#include "dsl/expr/py_value.hpp"

#include <libssh/libssh.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <memory>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace mistral::action::detail {

namespace {

/// How long connecting and authenticating may take (paramiko has no limit).
constexpr long ssh_connect_timeout_seconds = 30;

/// Anything that stops one host's command: Mistral hides the cause behind its generic message.
struct ssh_failure {
  std::string detail;
};

struct session_deleter {
  void operator()(ssh_session s) const {
    ssh_disconnect(s);
    ssh_free(s);
  }
};
struct channel_deleter {
  void operator()(ssh_channel c) const {
    ssh_channel_close(c);
    ssh_channel_free(c);
  }
};
struct key_deleter {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
using session_ptr = std::unique_ptr<ssh_session_struct, session_deleter>;
using channel_ptr = std::unique_ptr<ssh_channel_struct, channel_deleter>;
using key_ptr = std::unique_ptr<ssh_key_struct, key_deleter>;

struct host_port {
  std::string host;
  unsigned int port = 22;
};

host_port split_host(const std::string& text) {
  host_port hp{text, 22};
  auto parse_port = [&](const std::string& p) {
    if (!p.empty() && p.size() <= 5 && p.find_first_not_of("0123456789") == std::string::npos)
      return static_cast<unsigned int>(std::stoul(p));
    return 0u;
  };
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close != std::string::npos) {
      hp.host = text.substr(1, close - 1);
      if (close + 1 < text.size() && text[close + 1] == ':')
        if (unsigned int port = parse_port(text.substr(close + 2)); port != 0)
          hp.port = port;
    }
    return hp;
  }
  auto colon = text.find(':');
  if (colon != std::string::npos && colon == text.rfind(':')) {
    if (unsigned int port = parse_port(text.substr(colon + 1)); port != 0) {
      hp.host = text.substr(0, colon);
      hp.port = port;
    }
  }
  return hp;
}

/// _to_paramiko_private_key: inline key text first, then a file (relative to ~/.ssh/).
key_ptr load_key(const json& filename, const json& key_text, const json& password) {
  std::string pass = password.is_string() ? password.get<std::string>() : "";
  const char* passphrase = pass.empty() ? nullptr : pass.c_str();
  ssh_key key = nullptr;
  if (expr::py_truthy(key_text)) {
    std::string text = expr::py_str(key_text);
    if (ssh_pki_import_privkey_base64(text.c_str(), passphrase, nullptr, nullptr, &key) != SSH_OK)
      throw ssh_failure{"cannot read the private key"};
    return key_ptr(key);
  }
  if (!expr::py_truthy(filename))
    return nullptr;
  std::string name = expr::py_str(filename);
  if (name.find("../") != std::string::npos || name.find("..\\") != std::string::npos)
    throw ssh_failure{"Private key filename must not contain '..'. Actual: " + name};
  if (name[0] != '/') {
    const char* home = std::getenv("HOME");
    name = std::string(home != nullptr ? home : "") + "/.ssh/" + name;
  }
  if (ssh_pki_import_privkey_file(name.c_str(), passphrase, nullptr, nullptr, &key) != SSH_OK)
    throw ssh_failure{"cannot read the private key file " + name};
  return key_ptr(key);
}

/// A session connected to `target` (or over `fd` when >= 0) and authenticated as paramiko
/// would: the given key, then the agent and ~/.ssh keys, then the password.
session_ptr open_session(const host_port& target, const std::string& user, ssh_key key,
                         const std::string& password, int fd, const std::string& proxy_command) {
  session_ptr s(ssh_new());
  if (!s)
    throw ssh_failure{"cannot create an SSH session"};
  long timeout = ssh_connect_timeout_seconds;
  int no = 0;
  ssh_options_set(s.get(), SSH_OPTIONS_HOST, target.host.c_str());
  ssh_options_set(s.get(), SSH_OPTIONS_PORT, &target.port);
  ssh_options_set(s.get(), SSH_OPTIONS_USER, user.c_str());
  ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT, &timeout);
  ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &no); // paramiko ignores ~/.ssh/config
  if (fd >= 0) {
    socket_t sock = fd;
    ssh_options_set(s.get(), SSH_OPTIONS_FD, &sock);
  }
  if (!proxy_command.empty())
    ssh_options_set(s.get(), SSH_OPTIONS_PROXYCOMMAND, proxy_command.c_str());
  if (ssh_connect(s.get()) != SSH_OK)
    throw ssh_failure{ssh_get_error(s.get())};
  if (key != nullptr && ssh_userauth_publickey(s.get(), nullptr, key) == SSH_AUTH_SUCCESS)
    return s;
  if (ssh_userauth_publickey_auto(s.get(), nullptr, nullptr) == SSH_AUTH_SUCCESS)
    return s;
  if (!password.empty() && ssh_userauth_password(s.get(), nullptr, password.c_str()) == SSH_AUTH_SUCCESS)
    return s;
  throw ssh_failure{"Authentication failed."};
}

/// Runs `cmd` and returns (exit status, stdout); stderr is drained and dropped.
std::optional<std::pair<int, std::string>> execute(ssh_session s, const std::string& cmd,
                                                   const std::atomic<bool>* cancel) {
  channel_ptr ch(ssh_channel_new(s));
  if (!ch || ssh_channel_open_session(ch.get()) != SSH_OK ||
      ssh_channel_request_exec(ch.get(), cmd.c_str()) != SSH_OK)
    throw ssh_failure{ssh_get_error(s)};
  std::string out;
  char buf[16384];
  while (true) {
    if (cancelled(cancel))
      return std::nullopt;
    int n = ssh_channel_read_timeout(ch.get(), buf, sizeof buf, 0, 100);
    if (n == SSH_ERROR)
      throw ssh_failure{ssh_get_error(s)};
    if (n > 0)
      out.append(buf, static_cast<size_t>(n));
    // Not ssh_channel_read_nonblocking: in libssh 0.10 it leaves later timed reads returning at once.
    int e = ssh_channel_read_timeout(ch.get(), buf, sizeof buf, 1, 0);
    if (e == SSH_ERROR)
      throw ssh_failure{ssh_get_error(s)};
    if (n == 0 && e == 0 && (ssh_channel_is_eof(ch.get()) || !ssh_channel_is_open(ch.get())))
      break;
  }
  int status = ssh_channel_get_exit_status(ch.get());
  return std::make_pair(status, valid_utf8(out));
}

/// Copies bytes between a socket and a gateway channel until either side ends,
/// so that a second libssh session can run over the channel.
class channel_bridge {
public:
  channel_bridge(ssh_channel ch, int sock) : ch_(ch), sock_(sock), thread_([this] { run(); }) {}
  ~channel_bridge() {
    stop_ = true;
    thread_.join();
  }
  channel_bridge(const channel_bridge&) = delete;
  channel_bridge& operator=(const channel_bridge&) = delete;

private:
  void run() {
    char buf[16384];
    while (!stop_) {
      pollfd p{sock_, POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) {
        ssize_t n = ::read(sock_, buf, sizeof buf);
        if (n <= 0 || ssh_channel_write(ch_, buf, static_cast<uint32_t>(n)) == SSH_ERROR)
          break;
      }
      int m = ssh_channel_read_timeout(ch_, buf, sizeof buf, 0, 10);
      if (m == SSH_ERROR)
        break;
      if (m > 0 && !write_all(buf, static_cast<size_t>(m)))
        break;
      if (m == 0 && ssh_channel_is_eof(ch_))
        break;
    }
    ::shutdown(sock_, SHUT_RDWR);
  }

  bool write_all(const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = ::send(sock_, data, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  ssh_channel ch_;
  int sock_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Closes a descriptor on scope exit.
struct fd_guard {
  int fd;
  ~fd_guard() { ::close(fd); }
};

/// A channel from the gateway to host:port: direct-tcpip, or `nc` as Mistral runs it.
channel_ptr gateway_channel(ssh_session gw, const host_port& target) {
  channel_ptr ch(ssh_channel_new(gw));
  if (ch && ssh_channel_open_forward(ch.get(), target.host.c_str(), static_cast<int>(target.port),
                                     "127.0.0.1", 0) == SSH_OK)
    return ch;
  ch.reset(ssh_channel_new(gw));
  std::string nc = "nc " + target.host + " " + std::to_string(target.port);
  if (!ch || ssh_channel_open_session(ch.get()) != SSH_OK ||
      ssh_channel_request_exec(ch.get(), nc.c_str()) != SSH_OK)
    throw ssh_failure{ssh_get_error(gw)};
  return ch;
}

using host_runner = std::function<std::optional<std::pair<int, std::string>>(const std::string& host)>;

/// SSHAction.run: one result per host, a list only for several hosts.
action_result run_on_hosts(const json& input, const host_runner& run_one) {
  std::string cmd = expr::py_str(arg(input, "cmd"));
  json hosts = arg(input, "host");
  if (!hosts.is_array())
    hosts = json::array({hosts});
  std::string message = "Failed to execute ssh cmd '" + cmd + "' on " + expr::py_repr(hosts);
  json results = json::array();
  try {
    for (const auto& h : hosts) {
      auto outcome = run_one(expr::py_str(h));
      if (!outcome)
        return cancelled_result();
      if (outcome->first != 0)
        throw action_error(message);
      results.push_back(std::move(outcome->second));
    }
  } catch (const ssh_failure&) {
    throw action_error(message);
  }
  if (results.empty())
    throw action_error(message); // Mistral fails on `result` being unbound
  if (results.size() > 1)
    return action_result::ok(std::move(results));
  return action_result::ok(std::move(results[0]));
}

} // namespace

action_result run_ssh(const json& input, const action_context&, const std::atomic<bool>* cancel) {
  return run_on_hosts(input, [&](const std::string& host) {
    json password = arg(input, "password", "");
    key_ptr key = load_key(arg(input, "private_key_filename"), arg(input, "private_key"), password);
    session_ptr s = open_session(split_host(host), expr::py_str(arg(input, "username")), key.get(),
                                 password.is_string() ? password.get<std::string>() : "", -1, "");
    return execute(s.get(), expr::py_str(arg(input, "cmd")), cancel);
  });
}

action_result run_ssh_proxied(const json& input, const action_context&, const std::atomic<bool>* cancel) {
  return run_on_hosts(input, [&](const std::string& host) -> std::optional<std::pair<int, std::string>> {
    std::string username = expr::py_str(arg(input, "username"));
    json gateway_user = arg(input, "gateway_username");
    json proxy_command = arg(input, "proxy_command");
    key_ptr key =
      load_key(arg(input, "private_key_filename"), arg(input, "private_key"), arg(input, "password"));
    // The password only unlocks the key: neither hop logs in with it.
    session_ptr gw =
      open_session(split_host(expr::py_str(arg(input, "gateway_host"))),
                   expr::py_truthy(gateway_user) ? expr::py_str(gateway_user) : username, key.get(), "", -1,
                   expr::py_truthy(proxy_command) ? expr::py_str(proxy_command) : "");
    channel_ptr tunnel = gateway_channel(gw.get(), split_host(host));
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      throw ssh_failure{"socketpair failed"};
    fd_guard far_end{sv[1]};
    channel_bridge bridge(tunnel.get(), sv[1]);
    // The target session owns sv[0] from here on and closes it.
    session_ptr target = open_session(split_host(host), username, key.get(), "", sv[0], "");
    return execute(target.get(), expr::py_str(arg(input, "cmd")), cancel);
  });
}

} // namespace mistral::action::detail

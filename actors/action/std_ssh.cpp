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
#include <dlfcn.h>
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

// libssh is opened on the first std.ssh, not linked: loading it with its
// Kerberos and GSSAPI dependencies at start-up cost about 1 MB of resident
// memory in every server, also in those that never run std.ssh.
#define MISTRAL_LIBSSH_FUNCTIONS(X)                                                                          \
  X(ssh_channel_close)                                                                                       \
  X(ssh_channel_free)                                                                                        \
  X(ssh_channel_get_exit_status)                                                                             \
  X(ssh_channel_is_eof)                                                                                      \
  X(ssh_channel_is_open)                                                                                     \
  X(ssh_channel_new)                                                                                         \
  X(ssh_channel_open_forward)                                                                                \
  X(ssh_channel_open_session)                                                                                \
  X(ssh_channel_read_timeout)                                                                                \
  X(ssh_channel_request_exec)                                                                                \
  X(ssh_channel_write)                                                                                       \
  X(ssh_connect)                                                                                             \
  X(ssh_disconnect)                                                                                          \
  X(ssh_free)                                                                                                \
  X(ssh_get_error)                                                                                           \
  X(ssh_key_free)                                                                                            \
  X(ssh_new)                                                                                                 \
  X(ssh_options_set)                                                                                         \
  X(ssh_pki_import_privkey_base64)                                                                           \
  X(ssh_pki_import_privkey_file)                                                                             \
  X(ssh_userauth_password)                                                                                   \
  X(ssh_userauth_publickey)                                                                                  \
  X(ssh_userauth_publickey_auto)

struct libssh_functions {
#define MISTRAL_LIBSSH_POINTER(name) decltype(&::name) name = nullptr;
  MISTRAL_LIBSSH_FUNCTIONS(MISTRAL_LIBSSH_POINTER)
#undef MISTRAL_LIBSSH_POINTER
  std::string problem; ///< why libssh could not be loaded; empty when it was
};

libssh_functions load_libssh() {
  libssh_functions f;
  void* lib = ::dlopen(MISTRAL_LIBSSH_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    f.problem = std::string("cannot load ") + MISTRAL_LIBSSH_SONAME + ": " + ::dlerror();
    return f;
  }
#define MISTRAL_LIBSSH_RESOLVE(name)                                                                         \
  f.name = reinterpret_cast<decltype(&::name)>(::dlsym(lib, #name));                                         \
  if (f.name == nullptr && f.problem.empty())                                                                \
    f.problem = std::string(MISTRAL_LIBSSH_SONAME " has no ") + #name;
  MISTRAL_LIBSSH_FUNCTIONS(MISTRAL_LIBSSH_RESOLVE)
#undef MISTRAL_LIBSSH_RESOLVE
  return f; // the library stays loaded for the life of the process
}

/// libssh's functions, loaded once; throws ssh_failure when libssh is missing.
const libssh_functions& libssh() {
  static const libssh_functions f = load_libssh();
  if (!f.problem.empty())
    throw ssh_failure{f.problem};
  return f;
}

struct session_deleter {
  void operator()(ssh_session s) const {
    libssh().ssh_disconnect(s);
    libssh().ssh_free(s);
  }
};
struct channel_deleter {
  void operator()(ssh_channel c) const {
    libssh().ssh_channel_close(c);
    libssh().ssh_channel_free(c);
  }
};
struct key_deleter {
  void operator()(ssh_key k) const { libssh().ssh_key_free(k); }
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
    if (libssh().ssh_pki_import_privkey_base64(text.c_str(), passphrase, nullptr, nullptr, &key) != SSH_OK)
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
  if (libssh().ssh_pki_import_privkey_file(name.c_str(), passphrase, nullptr, nullptr, &key) != SSH_OK)
    throw ssh_failure{"cannot read the private key file " + name};
  return key_ptr(key);
}

/// A session connected to `target` (or over `fd` when >= 0) and authenticated as paramiko
/// would: the given key, then the agent and ~/.ssh keys, then the password.
session_ptr open_session(const host_port& target, const std::string& user, ssh_key key,
                         const std::string& password, int fd, const std::string& proxy_command) {
  session_ptr s(libssh().ssh_new());
  if (!s)
    throw ssh_failure{"cannot create an SSH session"};
  long timeout = ssh_connect_timeout_seconds;
  int no = 0;
  libssh().ssh_options_set(s.get(), SSH_OPTIONS_HOST, target.host.c_str());
  libssh().ssh_options_set(s.get(), SSH_OPTIONS_PORT, &target.port);
  libssh().ssh_options_set(s.get(), SSH_OPTIONS_USER, user.c_str());
  libssh().ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT, &timeout);
  libssh().ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &no); // paramiko ignores ~/.ssh/config
  if (fd >= 0) {
    socket_t sock = fd;
    libssh().ssh_options_set(s.get(), SSH_OPTIONS_FD, &sock);
  }
  if (!proxy_command.empty())
    libssh().ssh_options_set(s.get(), SSH_OPTIONS_PROXYCOMMAND, proxy_command.c_str());
  if (libssh().ssh_connect(s.get()) != SSH_OK)
    throw ssh_failure{libssh().ssh_get_error(s.get())};
  if (key != nullptr && libssh().ssh_userauth_publickey(s.get(), nullptr, key) == SSH_AUTH_SUCCESS)
    return s;
  if (libssh().ssh_userauth_publickey_auto(s.get(), nullptr, nullptr) == SSH_AUTH_SUCCESS)
    return s;
  if (!password.empty() &&
      libssh().ssh_userauth_password(s.get(), nullptr, password.c_str()) == SSH_AUTH_SUCCESS)
    return s;
  throw ssh_failure{"Authentication failed."};
}

/// Runs `cmd` and returns (exit status, stdout); stderr is drained and dropped.
std::optional<std::pair<int, std::string>> execute(ssh_session s, const std::string& cmd,
                                                   const std::atomic<bool>* cancel) {
  channel_ptr ch(libssh().ssh_channel_new(s));
  if (!ch || libssh().ssh_channel_open_session(ch.get()) != SSH_OK ||
      libssh().ssh_channel_request_exec(ch.get(), cmd.c_str()) != SSH_OK)
    throw ssh_failure{libssh().ssh_get_error(s)};
  std::string out;
  char buf[16384];
  while (true) {
    if (cancelled(cancel))
      return std::nullopt;
    int n = libssh().ssh_channel_read_timeout(ch.get(), buf, sizeof buf, 0, 100);
    if (n == SSH_ERROR)
      throw ssh_failure{libssh().ssh_get_error(s)};
    if (n > 0)
      out.append(buf, static_cast<size_t>(n));
    // Not ssh_channel_read_nonblocking: in libssh 0.10 it leaves later timed reads returning at once.
    int e = libssh().ssh_channel_read_timeout(ch.get(), buf, sizeof buf, 1, 0);
    if (e == SSH_ERROR)
      throw ssh_failure{libssh().ssh_get_error(s)};
    if (n == 0 && e == 0 &&
        (libssh().ssh_channel_is_eof(ch.get()) || !libssh().ssh_channel_is_open(ch.get())))
      break;
  }
  int status = libssh().ssh_channel_get_exit_status(ch.get());
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
        if (n <= 0 || libssh().ssh_channel_write(ch_, buf, static_cast<uint32_t>(n)) == SSH_ERROR)
          break;
      }
      int m = libssh().ssh_channel_read_timeout(ch_, buf, sizeof buf, 0, 10);
      if (m == SSH_ERROR)
        break;
      if (m > 0 && !write_all(buf, static_cast<size_t>(m)))
        break;
      if (m == 0 && libssh().ssh_channel_is_eof(ch_))
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
  channel_ptr ch(libssh().ssh_channel_new(gw));
  if (ch && libssh().ssh_channel_open_forward(ch.get(), target.host.c_str(), static_cast<int>(target.port),
                                              "127.0.0.1", 0) == SSH_OK)
    return ch;
  ch.reset(libssh().ssh_channel_new(gw));
  std::string nc = "nc " + target.host + " " + std::to_string(target.port);
  if (!ch || libssh().ssh_channel_open_session(ch.get()) != SSH_OK ||
      libssh().ssh_channel_request_exec(ch.get(), nc.c_str()) != SSH_OK)
    throw ssh_failure{libssh().ssh_get_error(gw)};
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

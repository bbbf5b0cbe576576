#include "actors/action/std_actions.hpp"
#include "actors/action/std_test_server.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pwd.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace mistral;
using namespace mistral::action;

namespace {

/// An sshd on 127.0.0.1 that lets the current user in with a generated key.
/// Started once for all tests; `error` says why it could not be.
struct test_sshd {
  std::filesystem::path dir;
  int port = 0;
  pid_t pid = -1;
  std::string user;
  std::string error;

  test_sshd() {
    if (::access("/usr/sbin/sshd", X_OK) != 0) {
      error = "/usr/sbin/sshd is missing (scripts/deps.sh installs openssh-server)";
      return;
    }
    char tmpl[] = "/tmp/mistral-sshd-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      error = "cannot create a temporary directory";
      return;
    }
    dir = tmpl;
    passwd* pw = ::getpwuid(::geteuid());
    user = pw != nullptr ? pw->pw_name : "root";
    for (const char* key : {"host_key", "id_user"}) {
      std::string cmd = "ssh-keygen -q -t ed25519 -N '' -f " + (dir / key).string() + " >/dev/null 2>&1";
      if (std::system(cmd.c_str()) != 0) {
        error = "ssh-keygen failed";
        return;
      }
    }
    std::filesystem::copy_file(dir / "id_user.pub", dir / "authorized_keys");
    std::filesystem::create_directories("/run/sshd"); // sshd's privilege separation directory
    port = testing::free_port();
    std::ofstream(dir / "sshd_config")
      << "Port " << port << "\nListenAddress 127.0.0.1\nHostKey " << (dir / "host_key").string()
      << "\nAuthorizedKeysFile " << (dir / "authorized_keys").string() << "\nPidFile "
      << (dir / "sshd.pid").string()
      << "\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
         "KbdInteractiveAuthentication no\nPermitRootLogin yes\n"
         "AllowTcpForwarding yes\nLogLevel ERROR\n";
    pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM); // no stray sshd when the test binary is killed
      std::string log = (dir / "sshd.log").string();
      std::freopen(log.c_str(), "w", stderr);
      std::string cfg = (dir / "sshd_config").string();
      ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (!wait_for_port()) {
      std::ifstream log(dir / "sshd.log");
      std::stringstream text;
      text << log.rdbuf();
      error = "sshd did not start: " + text.str();
    }
  }

  ~test_sshd() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
    if (!dir.empty())
      std::filesystem::remove_all(dir);
  }

  bool wait_for_port() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = -1;
        return false;
      }
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port));
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(port); }
  std::string key_file() const { return (dir / "id_user").string(); }
  std::string key_text() const {
    std::ifstream in(dir / "id_user");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

test_sshd& sshd() {
  static test_sshd instance;
  return instance;
}

/// True (after saying why) when the tests cannot run here.
bool skip_without_sshd() {
  if (sshd().error.empty())
    return false;
  MESSAGE("skipping the SSH test: " << sshd().error);
  return true;
}

action_result ssh(json input, const std::string& name = "std.ssh",
                  const std::atomic<bool>* cancel = nullptr) {
  action_context ctx;
  ctx.action_execution_id = "ax-ssh";
  return run_std_action(name, input, ctx, cancel).result;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("std.ssh runs the command with a key file and returns its standard output") {
  if (skip_without_sshd())
    return;
  auto r = ssh({{"cmd", "echo hello; echo ignored >&2"},
                {"host", sshd().host()},
                {"username", sshd().user},
                {"private_key_filename", sshd().key_file()}});
  REQUIRE(r.outcome == action_result::kind::success);
  CHECK(r.data == "hello\n");
}

TEST_CASE("std.ssh accepts the private key as text") {
  if (skip_without_sshd())
    return;
  auto r = ssh({{"cmd", "printf 'a b'"},
                {"host", sshd().host()},
                {"username", sshd().user},
                {"private_key", sshd().key_text()}});
  REQUIRE(r.outcome == action_result::kind::success);
  CHECK(r.data == "a b");
}

TEST_CASE("std.ssh gives a list for several hosts and a single value for a list of one") {
  if (skip_without_sshd())
    return;
  json base = {{"cmd", "echo x"}, {"username", sshd().user}, {"private_key_filename", sshd().key_file()}};
  json two = base;
  two["host"] = json::array({sshd().host(), sshd().host()});
  auto r = ssh(two);
  REQUIRE(r.outcome == action_result::kind::success);
  CHECK(r.data == json::array({"x\n", "x\n"}));
  json one = base;
  one["host"] = json::array({sshd().host()});
  CHECK(ssh(one).data == "x\n");
}

TEST_CASE("std.ssh turns a failing command into Mistral's generic error") {
  if (skip_without_sshd())
    return;
  auto r = ssh({{"cmd", "exit 3"},
                {"host", sshd().host()},
                {"username", sshd().user},
                {"private_key_filename", sshd().key_file()}});
  REQUIRE(r.outcome == action_result::kind::error);
  std::string text = r.error.get<std::string>();
  CHECK(
    text.rfind("The action raised an exception [action=<mistral.actions.std_actions.SSHAction object at 0x",
               0) == 0);
  CHECK(contains(text, ">, action_ex_id=ax-ssh, msg='Failed to execute ssh cmd 'exit 3' on ['" +
                         sshd().host() + "']']"));
}

TEST_CASE("std.ssh hides login and connection failures behind the same error") {
  if (skip_without_sshd())
    return;
  auto wrong =
    ssh({{"cmd", "true"}, {"host", sshd().host()}, {"username", sshd().user}, {"password", "nope"}});
  REQUIRE(wrong.outcome == action_result::kind::error);
  CHECK(contains(wrong.error.get<std::string>(),
                 "msg='Failed to execute ssh cmd 'true' on ['" + sshd().host() + "']'"));
  std::string closed = "127.0.0.1:" + std::to_string(testing::free_port());
  auto refused = ssh({{"cmd", "true"}, {"host", closed}, {"username", sshd().user}, {"password", "x"}});
  CHECK(contains(refused.error.get<std::string>(),
                 "msg='Failed to execute ssh cmd 'true' on ['" + closed + "']'"));
  auto dots = ssh({{"cmd", "true"},
                   {"host", sshd().host()},
                   {"username", sshd().user},
                   {"private_key_filename", "../etc/key"}});
  CHECK(dots.outcome == action_result::kind::error);
}

TEST_CASE("std.ssh_proxied runs the command through a gateway") {
  if (skip_without_sshd())
    return;
  auto r = ssh({{"cmd", "echo via gateway"},
                {"host", sshd().host()},
                {"username", sshd().user},
                {"private_key_filename", sshd().key_file()},
                {"gateway_host", sshd().host()}},
               "std.ssh_proxied");
  REQUIRE(r.outcome == action_result::kind::success);
  CHECK(r.data == "via gateway\n");
  auto failing = ssh({{"cmd", "false"},
                      {"host", sshd().host()},
                      {"username", sshd().user},
                      {"private_key_filename", sshd().key_file()},
                      {"gateway_host", sshd().host()}},
                     "std.ssh_proxied");
  REQUIRE(failing.outcome == action_result::kind::error);
  CHECK(contains(failing.error.get<std::string>(), "SSHProxiedAction object at 0x"));
  CHECK(contains(failing.error.get<std::string>(),
                 "msg='Failed to execute ssh cmd 'false' on ['" + sshd().host() + "']'"));
}

TEST_CASE("std.ssh stops waiting for a long command when cancelled") {
  if (skip_without_sshd())
    return;
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto started = std::chrono::steady_clock::now();
  auto r = ssh({{"cmd", "sleep 60"},
                {"host", sshd().host()},
                {"username", sshd().user},
                {"private_key_filename", sshd().key_file()}},
               "std.ssh", &cancel);
  canceller.join();
  CHECK(r.outcome == action_result::kind::cancelled);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
}

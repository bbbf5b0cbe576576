#include "actors/action/std_actions.hpp"
#include "actors/action/std_test_server.hpp"

#include <doctest/doctest.h>

#include <openssl/ssl.h>

#include <memory>
#include <mutex>

using namespace mistral;
using namespace mistral::action;
using mistral::action::testing::tcp_test_server;

namespace {

/// An SMTP server that records the conversation and accepts every message.
struct smtp_sink {
  bool offer_starttls = false;
  std::string auth_methods = "PLAIN LOGIN";
  std::shared_ptr<SSL_CTX> tls;
  std::mutex mutex;
  std::vector<std::string> commands;
  std::string message;
  std::unique_ptr<tcp_test_server> server;

  void start() {
    server =
      std::make_unique<tcp_test_server>([this](int fd, const std::atomic<bool>& stop) { serve(fd, stop); });
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server->port()); }

  std::vector<std::string> log() {
    std::lock_guard<std::mutex> lock(mutex);
    return commands;
  }

  struct conn {
    int fd;
    const std::atomic<bool>& stop;
    SSL* ssl = nullptr;
    std::string buffer;

    void send(const std::string& s) {
      if (ssl != nullptr)
        SSL_write(ssl, s.data(), static_cast<int>(s.size()));
      else
        testing::send_all(fd, s);
    }
    bool read_until(const std::string& marker) {
      if (ssl == nullptr)
        return testing::read_until(fd, buffer, marker, stop);
      while (buffer.find(marker) == std::string::npos) {
        char b[4096];
        int n = SSL_read(ssl, b, sizeof b);
        if (n <= 0)
          return false;
        buffer.append(b, static_cast<size_t>(n));
      }
      return true;
    }
    std::optional<std::string> line() {
      if (!read_until("\r\n"))
        return std::nullopt;
      auto at = buffer.find("\r\n");
      std::string l = buffer.substr(0, at);
      buffer.erase(0, at + 2);
      return l;
    }
  };

  void record(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex);
    commands.push_back(line);
  }

  void serve(int fd, const std::atomic<bool>& stop) {
    conn c{fd, stop, nullptr, {}};
    c.send("220 sink ESMTP ready\r\n");
    bool secure = false;
    while (auto line = c.line()) {
      record(*line);
      std::string verb = line->substr(0, line->find(' '));
      for (auto& ch : verb)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (verb == "EHLO") {
        std::string reply = "250-sink\r\n250-SIZE 1000000\r\n";
        if (offer_starttls && !secure)
          reply += "250-STARTTLS\r\n";
        reply += "250 AUTH " + auth_methods + "\r\n";
        c.send(reply);
      } else if (verb == "STARTTLS") {
        c.send("220 go ahead\r\n");
        c.ssl = SSL_new(tls.get());
        SSL_set_fd(c.ssl, fd);
        if (SSL_accept(c.ssl) != 1)
          break;
        secure = true;
      } else if (verb == "AUTH") {
        if (line->rfind("AUTH LOGIN", 0) == 0) {
          c.send("334 UGFzc3dvcmQ6\r\n");
          if (auto pass = c.line())
            record(*pass);
        }
        c.send("235 2.7.0 Authentication successful\r\n");
      } else if (verb == "RCPT") {
        c.send(line->find("refused") != std::string::npos ? "550 no such user\r\n" : "250 ok\r\n");
      } else if (verb == "DATA") {
        c.send("354 go on\r\n");
        if (!c.read_until("\r\n.\r\n"))
          break;
        auto end = c.buffer.find("\r\n.\r\n");
        {
          std::lock_guard<std::mutex> lock(mutex);
          message = c.buffer.substr(0, end + 2);
        }
        c.buffer.erase(0, end + 5);
        c.send("250 queued\r\n");
      } else if (verb == "QUIT") {
        c.send("221 bye\r\n");
        break;
      } else {
        c.send("250 ok\r\n");
      }
    }
    if (c.ssl != nullptr)
      SSL_free(c.ssl);
  }
};

action_result email(const json& input) {
  action_context ctx;
  ctx.action_execution_id = "ax-1";
  return run_std_action("std.email", input, ctx).result;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("std.email sends one message to cc, bcc and to recipients as smtplib does") {
  smtp_sink sink;
  sink.start();
  auto r = email({{"from_addr", "Mistral <mistral@example.com>"},
                  {"to_addrs", {"a@example.com", "b@example.com"}},
                  {"cc_addrs", {"c@example.com"}},
                  {"bcc_addrs", {"d@example.com"}},
                  {"reply_to", {"r@example.com"}},
                  {"smtp_server", sink.address()},
                  {"subject", "Hi there"},
                  {"body", "line one\n.line two"}});
  REQUIRE(r.outcome == action_result::kind::success);
  CHECK(r.data.is_null());
  auto log = sink.log();
  REQUIRE(log.size() >= 7);
  CHECK(log[0].rfind("ehlo ", 0) == 0);
  CHECK(log[1].rfind("mail FROM:<mistral@example.com> size=", 0) == 0);
  CHECK(log[2] == "rcpt TO:<c@example.com>");
  CHECK(log[3] == "rcpt TO:<d@example.com>");
  CHECK(log[4] == "rcpt TO:<a@example.com>");
  CHECK(log[5] == "rcpt TO:<b@example.com>");
  CHECK(log[6] == "data");
  std::string msg = sink.message;
  CHECK(msg.rfind("Content-Type: text/plain; charset=\"utf-8\"\r\nMIME-Version: 1.0\r\n"
                  "Content-Transfer-Encoding: base64\r\nSubject: =?utf-8?q?Hi_there?=\r\n"
                  "From: Mistral <mistral@example.com>\r\nReply-To: r@example.com\r\n"
                  "To: a@example.com, b@example.com\r\ncc: c@example.com\r\n\r\n",
                  0) == 0);
  CHECK(contains(msg, "\r\n\r\nbGluZSBvbmUKLmxpbmUgdHdv\r\n"));
  CHECK_FALSE(contains(msg, "d@example.com")); // bcc stays out of the headers
}

TEST_CASE("std.email fills in Mistral's default subject and body") {
  smtp_sink sink;
  sink.start();
  auto r =
    email({{"from_addr", "m@example.com"}, {"to_addrs", {"a@example.com"}}, {"smtp_server", sink.address()}});
  REQUIRE(r.outcome == action_result::kind::success);
  CHECK(contains(sink.message, "Subject: =?utf-8?q?=3CNo_subject=3E?=\r\n"));
  CHECK(contains(sink.message, "Reply-To: \r\n"));
  CHECK(contains(sink.message, "\r\n\r\nPE5vIGJvZHk+\r\n"));
}

TEST_CASE("std.email with an html body sends a multipart alternative message") {
  smtp_sink sink;
  sink.start();
  auto r = email({{"from_addr", "m@example.com"},
                  {"to_addrs", {"a@example.com"}},
                  {"smtp_server", sink.address()},
                  {"body", "plain"},
                  {"html_body", "<b>hi</b>"}});
  REQUIRE(r.outcome == action_result::kind::success);
  std::string msg = sink.message;
  CHECK(msg.rfind("Content-Type: multipart/alternative; boundary=\"===============", 0) == 0);
  CHECK(contains(msg, "Content-Type: text/plain; charset=\"utf-8\"\r\nMIME-Version: 1.0\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\ncGxhaW4=\r\n"));
  CHECK(contains(msg, "Content-Type: text/html; charset=\"utf-8\"\r\nMIME-Version: 1.0\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\nPGI+aGk8L2I+\r\n"));
}

TEST_CASE("std.email with a password upgrades to TLS and logs in") {
  smtp_sink sink;
  sink.offer_starttls = true;
  sink.auth_methods = "LOGIN";
  sink.tls = testing::self_signed_context();
  sink.start();
  auto r = email({{"from_addr", "user@example.com"},
                  {"to_addrs", {"a@example.com"}},
                  {"smtp_server", sink.address()},
                  {"smtp_password", "secret"}});
  REQUIRE(r.outcome == action_result::kind::success);
  auto log = sink.log();
  REQUIRE(log.size() >= 6);
  CHECK(log[0].rfind("ehlo ", 0) == 0);
  CHECK(log[1] == "STARTTLS");
  CHECK(log[2].rfind("ehlo ", 0) == 0);
  CHECK(log[3] == "AUTH LOGIN dXNlckBleGFtcGxlLmNvbQ==");
  CHECK(log[4] == "c2VjcmV0");
  CHECK(log[5].rfind("mail FROM:<user@example.com>", 0) == 0);
  CHECK(contains(sink.message, "To: a@example.com\r\n"));
}

TEST_CASE("std.email prefers AUTH PLAIN over LOGIN as smtplib does") {
  smtp_sink sink;
  sink.offer_starttls = true;
  sink.tls = testing::self_signed_context();
  sink.start();
  auto r = email(
    {{"from_addr", "u"}, {"to_addrs", {"a@x"}}, {"smtp_server", sink.address()}, {"smtp_password", "p"}});
  REQUIRE(r.outcome == action_result::kind::success);
  auto log = sink.log();
  REQUIRE(log.size() >= 4);
  CHECK(log[3] == "AUTH PLAIN AHUAcA==");
}

TEST_CASE("std.email fails when the server cannot do STARTTLS") {
  smtp_sink sink;
  sink.start();
  auto r = email(
    {{"from_addr", "u@x"}, {"to_addrs", {"a@x"}}, {"smtp_server", sink.address()}, {"smtp_password", "p"}});
  REQUIRE(r.outcome == action_result::kind::error);
  std::string text = r.error.get<std::string>();
  CHECK(text.rfind(
          "The action raised an exception [action=<mistral.actions.std_actions.SendEmailAction object at 0x",
          0) == 0);
  CHECK(contains(
    text, ">, action_ex_id=ax-1, msg='Failed to send an email message: STARTTLS extension not supported "
          "by server.']"));
}

TEST_CASE("std.email reports refused recipients, refused connections and bad servers") {
  smtp_sink sink;
  sink.start();
  auto refused = email({{"from_addr", "u@x"}, {"to_addrs", {"refused@x"}}, {"smtp_server", sink.address()}});
  REQUIRE(refused.outcome == action_result::kind::error);
  CHECK(contains(refused.error.get<std::string>(),
                 "msg='Failed to send an email message: {'refused@x': (550, b'no such user')}'"));
  auto partly =
    email({{"from_addr", "u@x"}, {"to_addrs", {"refused@x", "ok@x"}}, {"smtp_server", sink.address()}});
  CHECK(partly.outcome == action_result::kind::success);

  auto closed = email({{"from_addr", "u@x"},
                       {"to_addrs", {"a@x"}},
                       {"smtp_server", "127.0.0.1:" + std::to_string(testing::free_port())}});
  REQUIRE(closed.outcome == action_result::kind::error);
  CHECK(contains(closed.error.get<std::string>(),
                 "msg='Failed to send an email message: [Errno 111] Connection refused'"));
  auto bad_port = email({{"from_addr", "u@x"}, {"to_addrs", {"a@x"}}, {"smtp_server", "localhost:abc"}});
  CHECK(
    contains(bad_port.error.get<std::string>(), "msg='Failed to send an email message: nonnumeric port'"));
}

TEST_CASE("std.email with a string of recipients fails as Python's list concatenation does") {
  auto r = email({{"from_addr", "u@x"}, {"to_addrs", "a@x"}, {"smtp_server", "127.0.0.1:1"}});
  REQUIRE(r.outcome == action_result::kind::error);
  CHECK(contains(r.error.get<std::string>(), "msg='can only concatenate list (not \"str\") to list'"));
}

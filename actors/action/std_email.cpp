// std.email: Mistral's SendEmailAction (email.mime + smtplib) over a plain
// socket, with OpenSSL for STARTTLS.

#include "actors/action/std_support.hpp"
#include "dsl/expr/py_value.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace mistral::action::detail {

namespace {

/// smtplib has no timeout of its own; this bounds each connect, read and write.
constexpr int smtp_timeout_seconds = 60;

/// What smtplib raises: becomes "Failed to send an email message: <text>".
struct smtp_error {
  std::string text;
};

// ---------------------------------------------------------------- message

/// email.quoprimime.header_encode's per-byte form.
std::string q_encode(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || ch == '-' || ch == '!' || ch == '*' || ch == '+' || ch == '/') {
      out += ch;
    } else if (ch == ' ') {
      out += '_';
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "=%02X", c);
      out += buf;
    }
  }
  return out;
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80)
      return false;
  return true;
}

/// Header(text, 'utf-8').encode(): the shorter of Q and base64, Q on a tie.
std::string utf8_header(std::string_view text) {
  std::string q = q_encode(text);
  std::string b = base64_encode(text);
  return b.size() < q.size() ? "=?utf-8?b?" + b + "?=" : "=?utf-8?q?" + q + "?=";
}

/// Header(text) with the default us-ascii charset: plain when ASCII, else as utf-8.
std::string ascii_header(std::string_view text) {
  return is_ascii(text) ? std::string(text) : utf8_header(text);
}

/// base64mime.body_encode: 76-character lines.
std::string base64_body(std::string_view text) {
  std::string encoded = base64_encode(text);
  std::string out;
  for (size_t i = 0; i < encoded.size(); i += 76)
    out += encoded.substr(i, 76) + "\n";
  return out;
}

std::string text_part(const char* subtype) {
  return std::string("Content-Type: text/") + subtype +
         "; charset=\"utf-8\"\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64\n";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> strings_of(const json& list) {
  std::vector<std::string> out;
  for (const auto& item : list)
    out.push_back(expr::py_str(item));
  return out;
}

struct email_plan {
  std::string sender;
  std::vector<std::string> to, cc, bcc, reply_to;
  std::string subject, body;
  json html_body;
  json password;
  std::string server;
};

/// message.as_string() of the MIMEText / MIMEMultipart('alternative') Mistral builds.
std::string build_message(const email_plan& p) {
  std::string headers = "Subject: " + utf8_header(p.subject) + "\nFrom: " + p.sender +
                        "\nReply-To: " + ascii_header(join(p.reply_to)) + "\nTo: " + join(p.to) + "\n";
  if (!p.cc.empty())
    headers += "cc: " + join(p.cc) + "\n";
  if (!expr::py_truthy(p.html_body))
    return text_part("plain") + headers + "\n" + base64_body(p.body);
  std::mt19937_64 rng(std::random_device{}());
  std::string boundary = "===============" + std::to_string(rng() % 10000000000000000000ULL) + "==";
  std::string html = expr::py_str(p.html_body);
  return "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\nMIME-Version: 1.0\n" + headers +
         "\n--" + boundary + "\n" + text_part("plain") + "\n" + base64_body(p.body) + "\n--" + boundary +
         "\n" + text_part("html") + "\n" + base64_body(html) + "\n--" + boundary + "--\n";
}

/// smtplib's _fix_eols and dot-stuffing, plus the terminating ".".
std::string data_block(const std::string& msg) {
  std::string out;
  bool line_start = true;
  for (size_t i = 0; i < msg.size(); ++i) {
    char c = msg[i];
    if (line_start && c == '.')
      out += '.';
    if (c == '\r' && i + 1 < msg.size() && msg[i + 1] == '\n')
      continue;
    if (c == '\n' || c == '\r') {
      out += "\r\n";
      line_start = true;
      continue;
    }
    out += c;
    line_start = false;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0)
    out += "\r\n";
  return out + ".\r\n";
}

/// The address part smtplib.quoteaddr puts between angle brackets.
std::string quote_addr(const std::string& addr) {
  auto lt = addr.rfind('<');
  auto gt = addr.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt)
    return "<" + addr.substr(lt + 1, gt - lt - 1) + ">";
  auto b = addr.find_first_not_of(' ');
  auto e = addr.find_last_not_of(' ');
  return "<" + (b == std::string::npos ? std::string() : addr.substr(b, e - b + 1)) + ">";
}

// ---------------------------------------------------------------- SMTP client

/// Blocks SIGPIPE in this thread while OpenSSL writes (it uses plain write(), which would
/// kill the server when the peer has gone) and swallows one raised meanwhile.
class sigpipe_guard {
public:
  sigpipe_guard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~sigpipe_guard() {
    if (!was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

struct ssl_deleter {
  void operator()(SSL* s) const { SSL_free(s); }
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

/// One SMTP connection: line reads and writes with timeouts, optionally over TLS.
class smtp_connection {
public:
  explicit smtp_connection(const std::atomic<bool>* cancel) : cancel_(cancel) {}
  ~smtp_connection() {
    if (ssl_) {
      sigpipe_guard guard;
      SSL_shutdown(ssl_.get());
    }
    if (fd_ >= 0)
      ::close(fd_);
  }
  smtp_connection(const smtp_connection&) = delete;
  smtp_connection& operator=(const smtp_connection&) = delete;

  void connect(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0)
      throw smtp_error{"[Errno " + std::to_string(rc) + "] " + ::gai_strerror(rc)};
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, ::freeaddrinfo);
    int last_errno = ECONNREFUSED;
    for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0)
        continue;
      int err = connect_with_timeout(fd, ai);
      if (err == 0) {
        fd_ = fd;
        timeval tv{smtp_timeout_seconds, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        return;
      }
      ::close(fd);
      last_errno = err;
    }
    if (last_errno == ETIMEDOUT)
      throw smtp_error{"timed out"};
    throw smtp_error{"[Errno " + std::to_string(last_errno) + "] " + std::strerror(last_errno)};
  }

  void start_tls(const std::string& host) {
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    // smtplib's starttls() without a context neither checks the certificate nor the host name.
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_NONE, nullptr);
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), fd_);
    SSL_set_tlsext_host_name(ssl_.get(), host.c_str());
    sigpipe_guard guard;
    if (SSL_connect(ssl_.get()) != 1) {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
      ssl_.reset();
      throw smtp_error{std::string("[SSL] ") + buf};
    }
  }

  void send(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      check_cancel();
      ssize_t n = -1;
      if (ssl_) {
        sigpipe_guard guard;
        n = SSL_write(ssl_.get(), data.data() + done, static_cast<int>(data.size() - done));
      } else {
        n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      }
      if (n < 0 && !ssl_ && errno == EINTR)
        continue;
      if (n <= 0)
        throw smtp_error{"Server not connected"};
      done += static_cast<size_t>(n);
    }
  }

  /// Reads one reply: (code, lines joined with "\n"), as smtplib's getreply.
  std::pair<int, std::string> reply() {
    std::string joined;
    while (true) {
      std::string line = read_line();
      if (line.size() < 3)
        throw smtp_error{"Connection unexpectedly closed"};
      int code = std::atoi(line.substr(0, 3).c_str());
      if (!joined.empty())
        joined += "\n";
      joined += line.size() > 4 ? line.substr(4) : "";
      if (line.size() < 4 || line[3] != '-')
        return {code, joined};
    }
  }

  std::pair<int, std::string> command(const std::string& line) {
    send(line + "\r\n");
    return reply();
  }

private:
  int connect_with_timeout(int fd, const addrinfo* ai) {
    int flags = ::fcntl(fd, F_GETFL, 0);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS)
      return errno;
    if (rc != 0) {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(smtp_timeout_seconds);
      while (true) {
        check_cancel();
        pollfd p{fd, POLLOUT, 0};
        int r = ::poll(&p, 1, 100);
        if (r > 0)
          break;
        if (std::chrono::steady_clock::now() > deadline)
          return ETIMEDOUT;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0)
        return err;
    }
    ::fcntl(fd, F_SETFL, flags);
    return 0;
  }

  void check_cancel() const {
    if (cancelled(cancel_))
      throw smtp_error{"cancelled"};
  }

  std::string read_line() {
    std::string line;
    while (true) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r')
          line.pop_back();
        return line;
      }
      check_cancel();
      char buf[4096];
      ssize_t n = ssl_ ? SSL_read(ssl_.get(), buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && !ssl_ && errno == EINTR)
        continue;
      if (n < 0 && !ssl_ && (errno == EAGAIN || errno == EWOULDBLOCK))
        throw smtp_error{"timed out"};
      if (n <= 0)
        throw smtp_error{"Connection unexpectedly closed"};
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  const std::atomic<bool>* cancel_;
  int fd_ = -1;
  std::unique_ptr<SSL_CTX, ssl_deleter> ctx_;
  std::unique_ptr<SSL, ssl_deleter> ssl_;
  std::string buffer_;
};

/// Python's repr of an SMTP reply as bytes.
std::string bytes_repr(const std::string& text) {
  return "b" + expr::py_repr(text);
}

std::string code_repr(int code, const std::string& text) {
  return "(" + std::to_string(code) + ", " + bytes_repr(text) + ")";
}

/// The server's EHLO extensions (lower-case keyword -> parameters).
std::vector<std::pair<std::string, std::string>> parse_ehlo(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = text.find('\n'); // the first line is the greeting
  while (start != std::string::npos) {
    auto end = text.find('\n', start + 1);
    std::string line = text.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
    auto sp = line.find_first_of(" =");
    std::string key = line.substr(0, sp);
    for (auto& c : key)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.emplace_back(key, sp == std::string::npos ? "" : line.substr(sp + 1));
    start = end;
  }
  return out;
}

struct smtp_session {
  smtp_connection conn;
  std::string local_name = "localhost";
  bool esmtp = false;
  bool greeted = false;
  std::vector<std::pair<std::string, std::string>> features;

  explicit smtp_session(const std::atomic<bool>* cancel) : conn(cancel) {
    char host[256] = "localhost";
    if (::gethostname(host, sizeof host) == 0)
      local_name = host;
  }

  const std::string* feature(const std::string& key) const {
    for (const auto& [k, v] : features)
      if (k == key)
        return &v;
    return nullptr;
  }

  /// smtplib.ehlo(): fills features; false when the server refused EHLO.
  bool ehlo() {
    auto [code, text] = conn.command("ehlo " + local_name);
    greeted = true;
    esmtp = code == 250;
    features = esmtp ? parse_ehlo(text) : decltype(features){};
    return esmtp;
  }

  /// smtplib.ehlo_or_helo_if_needed(): greets only when nothing has been said since connecting or STARTTLS.
  void ehlo_or_helo() {
    if (greeted)
      return;
    if (ehlo())
      return;
    auto [code, text] = conn.command("helo " + local_name);
    greeted = true;
    if (code != 250)
      throw smtp_error{code_repr(code, text)};
  }

  void starttls(const std::string& host) {
    ehlo_or_helo();
    if (feature("starttls") == nullptr)
      throw smtp_error{"STARTTLS extension not supported by server."};
    auto [code, text] = conn.command("STARTTLS");
    if (code != 220)
      return; // smtplib returns the reply without raising
    conn.start_tls(host);
    features.clear();
    esmtp = false;
    greeted = false;
  }

  bool try_auth(const std::string& mech, const std::string& user, const std::string& password,
                std::pair<int, std::string>& last) {
    if (mech == "PLAIN") {
      last = conn.command("AUTH PLAIN " + base64_encode(std::string(1, '\0') + user + '\0' + password));
    } else if (mech == "LOGIN") {
      last = conn.command("AUTH LOGIN " + base64_encode(user));
      if (last.first == 334)
        last = conn.command(base64_encode(password));
    } else {
      last = conn.command("AUTH CRAM-MD5");
      if (last.first == 334)
        last = conn.command(base64_encode(user + " " + cram_md5(password, last.second)));
    }
    return last.first == 235 || last.first == 503;
  }

  static std::string cram_md5(const std::string& password, const std::string& challenge_b64) {
    std::string challenge(challenge_b64.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(challenge.data()),
                            reinterpret_cast<const unsigned char*>(challenge_b64.data()),
                            static_cast<int>(challenge_b64.size()));
    challenge.resize(n > 0 ? static_cast<size_t>(n) : 0);
    while (!challenge.empty() && challenge.back() == '\0')
      challenge.pop_back();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_md5(), password.data(), static_cast<int>(password.size()),
         reinterpret_cast<const unsigned char*>(challenge.data()), challenge.size(), digest, &len);
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
      char b[3];
      std::snprintf(b, sizeof b, "%02x", digest[i]);
      hex += b;
    }
    return hex;
  }

  /// smtplib.login(): CRAM-MD5, PLAIN, LOGIN in that order among what the server offers.
  void login(const std::string& user, const std::string& password) {
    ehlo_or_helo();
    const std::string* offered = feature("auth");
    if (offered == nullptr)
      throw smtp_error{"SMTP AUTH extension not supported by server."};
    std::string upper = *offered;
    for (auto& c : upper)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::pair<int, std::string> last{0, ""};
    bool tried = false;
    for (const char* mech : {"CRAM-MD5", "PLAIN", "LOGIN"}) {
      auto at = (" " + upper + " ").find(std::string(" ") + mech + " ");
      if (at == std::string::npos)
        continue;
      tried = true;
      if (try_auth(mech, user, password, last))
        return;
    }
    if (!tried)
      throw smtp_error{"No suitable authentication method found."};
    throw smtp_error{code_repr(last.first, last.second)};
  }

  /// smtplib.sendmail().
  void sendmail(const std::string& from, const std::vector<std::string>& rcpt, const std::string& msg) {
    ehlo_or_helo();
    std::string data = data_block(msg);
    std::string mail = "mail FROM:" + quote_addr(from);
    if (esmtp && feature("size") != nullptr)
      mail += " size=" + std::to_string(msg.size());
    auto [code, text] = conn.command(mail);
    if (code != 250) {
      conn.command("rset");
      throw smtp_error{"(" + std::to_string(code) + ", " + bytes_repr(text) + ", " + expr::py_repr(from) +
                       ")"};
    }
    std::string refused;
    size_t refused_count = 0;
    for (const auto& r : rcpt) {
      auto [rc, rt] = conn.command("rcpt TO:" + quote_addr(r));
      if (rc != 250 && rc != 251) {
        refused += (refused.empty() ? "" : ", ") + expr::py_repr(r) + ": " + code_repr(rc, rt);
        ++refused_count;
      }
    }
    if (refused_count == rcpt.size()) {
      conn.command("rset");
      throw smtp_error{"{" + refused + "}"};
    }
    auto [dc, dt] = conn.command("data");
    if (dc != 354) {
      conn.command("rset");
      throw smtp_error{code_repr(dc, dt)};
    }
    conn.send(data);
    auto [ec, et] = conn.reply();
    if (ec != 250) {
      conn.command("rset");
      throw smtp_error{code_repr(ec, et)};
    }
  }
};

/// list + list as Python does it, with its TypeError for anything else.
std::vector<std::string> concat_rcpt(const json& cc, const json& bcc, const json& to) {
  std::string left = py_type_name(cc);
  for (const json* right : {&bcc, &to}) {
    if (left != py_type_name(*right))
      throw action_error("can only concatenate " + left + " (not \"" + py_type_name(*right) + "\") to " +
                         left);
  }
  if (left != "list")
    throw action_error("can only concatenate list (not \"" + left + "\") to list");
  std::vector<std::string> out = strings_of(cc);
  for (const auto& s : strings_of(bcc))
    out.push_back(s);
  for (const auto& s : strings_of(to))
    out.push_back(s);
  return out;
}

/// `x or []` as a list of strings; a string joins its characters, as ', '.join() would.
std::vector<std::string> address_list(const json& v) {
  if (!expr::py_truthy(v))
    return {};
  if (v.is_string()) {
    std::vector<std::string> chars;
    for (char c : v.get<std::string>())
      chars.emplace_back(1, c);
    return chars;
  }
  if (!v.is_array())
    throw action_error("can only join an iterable");
  return strings_of(v);
}

} // namespace

action_result run_email(const json& input, const action_context&, const std::atomic<bool>* cancel) {
  email_plan p;
  json to = arg(input, "to_addrs");
  json cc = expr::py_truthy(arg(input, "cc_addrs")) ? arg(input, "cc_addrs") : json::array();
  json bcc = expr::py_truthy(arg(input, "bcc_addrs")) ? arg(input, "bcc_addrs") : json::array();
  p.to = address_list(to);
  p.cc = address_list(cc);
  p.bcc = address_list(bcc);
  p.reply_to = address_list(arg(input, "reply_to"));
  json subject = arg(input, "subject");
  json body = arg(input, "body");
  p.subject = expr::py_truthy(subject) ? expr::py_str(subject) : "<No subject>";
  p.body = expr::py_truthy(body) ? expr::py_str(body) : "<No body>";
  p.html_body = arg(input, "html_body");
  p.sender = expr::py_str(arg(input, "from_addr"));
  p.password = arg(input, "smtp_password");
  p.server = expr::py_str(arg(input, "smtp_server"));

  std::string message = build_message(p);
  std::vector<std::string> rcpt = concat_rcpt(cc, bcc, to);

  try {
    // smtplib.SMTP("host:port"): one colon splits off the port.
    std::string host = p.server;
    int port = 25;
    if (auto colon = host.find(':'); colon != std::string::npos && colon == host.rfind(':')) {
      std::string port_text = host.substr(colon + 1);
      host = host.substr(0, colon);
      if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos ||
          port_text.size() > 5)
        throw smtp_error{"nonnumeric port"};
      port = std::stoi(port_text);
    }
    if (host.empty())
      host = "localhost";
    smtp_session s(cancel);
    s.conn.connect(host, port);
    auto [code, text] = s.conn.reply();
    if (code != 220)
      throw smtp_error{code_repr(code, text)};
    if (!p.password.is_null()) {
      s.ehlo();
      s.starttls(host);
      s.ehlo();
      s.login(p.sender, expr::py_str(p.password));
    }
    s.sendmail(p.sender, rcpt, message);
    try {
      s.conn.command("quit");
    } catch (const smtp_error&) {
      // the message is accepted; a rude goodbye does not matter
    }
  } catch (const smtp_error& e) {
    if (cancelled(cancel))
      return cancelled_result();
    throw action_error("Failed to send an email message: " + e.text);
  }
  return action_result::ok(nullptr);
}

} // namespace mistral::action::detail

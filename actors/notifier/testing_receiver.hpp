#pragma once

// A local HTTP receiver for the notifier tests: records every request it
// gets and answers with the status the test chooses per request.

#include "actors/action/std_test_server.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace mistral::notifier::testing {

/// One request as received.
struct received_request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers; ///< names in lower case
  std::string body;
};

/// Serves http://127.0.0.1:port()/...; `rule(n, request)` chooses the status
/// of the n-th request (0-based), 200 when there is no rule.
class webhook_receiver {
public:
  using status_rule = std::function<int(int n, const received_request& r)>;

  explicit webhook_receiver(status_rule rule = {})
    : rule_(std::move(rule)),
      server_([this](int fd, const std::atomic<bool>& stopping) { serve(fd, stopping); }) {}

  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }

  /// Waits until `n` requests were accepted (or `limit` passed); true when they were.
  bool wait_for(std::size_t n, std::chrono::seconds limit = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return requests_.size() >= n; });
  }

  /// Waits until `n` requests were refused (or `limit` passed).
  bool wait_for_failed(std::size_t n, std::chrono::seconds limit = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return failed_ >= n; });
  }

  std::vector<received_request> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

private:
  void serve(int fd, const std::atomic<bool>& stopping) {
    std::string buffer;
    while (action::testing::read_until(fd, buffer, "\r\n\r\n", stopping)) {
      auto end = buffer.find("\r\n\r\n");
      received_request r;
      std::string head = buffer.substr(0, end);
      buffer.erase(0, end + 4);
      std::size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      auto sp1 = first.find(' ');
      auto sp2 = first.find(' ', sp1 + 1);
      r.method = first.substr(0, sp1);
      r.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
      std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        std::size_t next = head.find("\r\n", pos);
        if (next == std::string::npos)
          next = head.size();
        std::string line = head.substr(pos, next - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(' '));
          r.headers[name] = value;
        }
        pos = next + 2;
      }
      std::size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
      while (buffer.size() < length) {
        if (stopping)
          return;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0)
          continue;
        char chunk[4096];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
          return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      r.body = buffer.substr(0, length);
      buffer.erase(0, length);
      int status = 200;
      {
        // Recorded before the answer: the sender's next request can only come
        // after it, so the record keeps the order in which requests were sent.
        std::lock_guard<std::mutex> lock(mutex_);
        int index = static_cast<int>(answered_++);
        if (rule_)
          status = rule_(index, r);
        if (status == 200 || status == 201)
          requests_.push_back(r);
        else
          ++failed_;
      }
      changed_.notify_all();
      std::string text = status == 200 || status == 201 ? "ok" : "receiver failure";
      action::testing::send_all(fd, "HTTP/1.1 " + std::to_string(status) +
                                      " X\r\nContent-Type: text/plain\r\n" +
                                      "Content-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text);
    }
  }

public:
  /// Requests answered with a failure status.
  std::size_t failed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failed_;
  }

private:
  status_rule rule_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<received_request> requests_; ///< the accepted ones, in arrival order
  std::size_t answered_ = 0;
  std::size_t failed_ = 0;
  action::testing::tcp_test_server server_; // last: stops before the members it uses go away
};

} // namespace mistral::notifier::testing

// std.javascript / std.js on Debian's duktape.
//
// Mistral evaluates `$ = <context as JSON>` and then
// `function f() { <script> } f()` and returns the value converted to Python
// data. Debian's duktape has no execution-timeout hook, so a script that
// loops forever could only be stopped by killing its thread; instead each
// script runs in a forked child that the parent can kill when the action is
// cancelled or runs too long. The child touches nothing but its own duktape
// heap and a pipe.

#include "actors/action/std_support.hpp"

#include <duktape.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace mistral::action::detail {

namespace {

/// The most memory one script may allocate, and the longest it may run.
constexpr size_t js_memory_limit = 512u << 20;
constexpr int js_time_limit_seconds = 300;

struct heap_budget {
  size_t used = 0;
};

// Each block carries its size in front, so the budget can be kept exactly.
constexpr size_t header = alignof(std::max_align_t);

void* budget_alloc(void* udata, duk_size_t size) {
  auto* b = static_cast<heap_budget*>(udata);
  if (size == 0)
    return nullptr;
  if (b->used + size > js_memory_limit)
    return nullptr;
  auto* p = static_cast<char*>(std::malloc(size + header));
  if (p == nullptr)
    return nullptr;
  std::memcpy(p, &size, sizeof size);
  b->used += size;
  return p + header;
}

void budget_free(void* udata, void* ptr) {
  if (ptr == nullptr)
    return;
  auto* p = static_cast<char*>(ptr) - header;
  size_t size;
  std::memcpy(&size, p, sizeof size);
  static_cast<heap_budget*>(udata)->used -= size;
  std::free(p);
}

void* budget_realloc(void* udata, void* ptr, duk_size_t size) {
  if (ptr == nullptr)
    return budget_alloc(udata, size);
  if (size == 0) {
    budget_free(udata, ptr);
    return nullptr;
  }
  auto* b = static_cast<heap_budget*>(udata);
  auto* p = static_cast<char*>(ptr) - header;
  size_t old;
  std::memcpy(&old, p, sizeof old);
  if (size > old && b->used + (size - old) > js_memory_limit)
    return nullptr;
  auto* q = static_cast<char*>(std::realloc(p, size + header));
  if (q == nullptr)
    return nullptr;
  std::memcpy(q, &size, sizeof size);
  b->used = b->used - old + size;
  return q + header;
}

void write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    data += w;
    n -= static_cast<size_t>(w);
  }
}

int child_fd = -1;

/// Reports `text` to the parent with a one-letter verdict and ends the child.
[[noreturn]] void child_finish(char verdict, const char* text) {
  write_all(child_fd, &verdict, 1);
  if (text != nullptr)
    write_all(child_fd, text, std::strlen(text));
  ::_exit(0);
}

void fatal_handler(void*, const char* msg) {
  child_finish('e', msg != nullptr ? msg : "fatal error");
}

/// Binds the context (JSON text on the stack) to the global `$`.
duk_ret_t bind_context(duk_context* ctx, void*) {
  duk_json_decode(ctx, -1);
  duk_put_global_string(ctx, "$");
  return 0;
}

/// Turns the script's value (on the stack) into JSON text.
duk_ret_t encode_result(duk_context* ctx, void*) {
  duk_json_encode(ctx, -1);
  return 1;
}

[[noreturn]] void child_main(int fd, const std::string& context_json, const std::string& script) {
  // Keep only the pipe: the parent's sockets and files must not stay open in a long script.
  if (fd != 3) {
    ::dup2(fd, 3);
    fd = 3;
  }
  ::close_range(4, ~0U, 0);
  child_fd = fd;
  // The parent's crash handlers must not run (and report) in the child.
  for (int sig = 1; sig < NSIG; ++sig)
    ::signal(sig, SIG_DFL);
  heap_budget budget;
  duk_context* ctx = duk_create_heap(budget_alloc, budget_realloc, budget_free, &budget, fatal_handler);
  if (ctx == nullptr)
    child_finish('e', "cannot create a JavaScript heap");
  duk_push_lstring(ctx, context_json.data(), context_json.size());
  if (duk_safe_call(ctx, bind_context, nullptr, 1, 1) != DUK_EXEC_SUCCESS)
    child_finish('e', duk_safe_to_string(ctx, -1));
  duk_pop(ctx);
  if (duk_peval_lstring(ctx, script.data(), script.size()) != 0)
    child_finish('e', duk_safe_to_string(ctx, -1));
  if (duk_safe_call(ctx, encode_result, nullptr, 1, 1) != DUK_EXEC_SUCCESS)
    child_finish('e', duk_safe_to_string(ctx, -1));
  // undefined and functions have no JSON form: Python sees None.
  const char* text = duk_get_string(ctx, -1);
  child_finish('o', text != nullptr ? text : "null");
}

struct child_outcome {
  enum class kind { done, cancelled, timed_out, crashed } outcome = kind::done;
  std::string output;
  int signal = 0;
};

/// Reads the child's report, killing it when `cancel` is set or time runs out.
child_outcome await_child(pid_t pid, int fd, const std::atomic<bool>* cancel) {
  child_outcome out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(js_time_limit_seconds);
  char buf[65536];
  while (true) {
    if (cancelled(cancel) || std::chrono::steady_clock::now() > deadline) {
      out.outcome = cancelled(cancel) ? child_outcome::kind::cancelled : child_outcome::kind::timed_out;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r < 0 && errno != EINTR)
      break;
    if (r <= 0)
      continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    out.output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out.outcome == child_outcome::kind::done && out.output.empty()) {
    out.outcome = child_outcome::kind::crashed;
    out.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return out;
}

} // namespace

action_result run_javascript(const json& input, const action_context&, const std::atomic<bool>* cancel) {
  const std::string prefix = "JavaScriptAction failed: ";
  json script_value = arg(input, "script");
  std::string script = "function f() {\n                " +
                       (script_value.is_string() ? script_value.get<std::string>() : script_value.dump()) +
                       "\n            }\n            f()\n            ";
  // Mistral writes `$ = None` for a missing context (a ReferenceError in
  // every engine); JavaScript's null is what such scripts mean.
  std::string context_json = arg(input, "context").dump(-1, ' ', false, json::error_handler_t::replace);

  int fds[2];
  if (::pipe(fds) != 0)
    throw action_error(prefix + "cannot create a pipe: " + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw action_error(prefix + "cannot start the script engine: " + std::strerror(err));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], context_json, script);
  }
  ::close(fds[1]);
  child_outcome out = await_child(pid, fds[0], cancel);
  ::close(fds[0]);

  switch (out.outcome) {
    case child_outcome::kind::cancelled: return cancelled_result();
    case child_outcome::kind::timed_out:
      throw action_error(prefix + "the script ran longer than " + std::to_string(js_time_limit_seconds) +
                         " seconds");
    case child_outcome::kind::crashed:
      throw action_error(prefix + "the script engine died" +
                         (out.signal != 0 ? " (signal " + std::to_string(out.signal) + ")" : std::string()));
    case child_outcome::kind::done: break;
  }
  std::string text = valid_utf8(std::string_view(out.output).substr(1));
  if (out.output[0] != 'o')
    throw action_error(prefix + text);
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded())
    throw action_error(prefix + "the script's value is not JSON: " + text);
  return action_result::ok(std::move(value));
}

} // namespace mistral::action::detail

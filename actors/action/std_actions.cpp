#include "actors/action/std_actions.hpp"

#include "actors/action/std_support.hpp"
#include "dsl/expr/py_value.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <thread>

namespace mistral::action {

namespace detail {

std::string py_type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "NoneType";
    case json::value_t::boolean: return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "int";
    case json::value_t::number_float: return "float";
    case json::value_t::string: return "str";
    case json::value_t::array: return "list";
    case json::value_t::object: return "dict";
    default: return "bytes";
  }
}

bool cancelled(const std::atomic<bool>* cancel) noexcept {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

bool cancellable_sleep(double seconds, const std::atomic<bool>* cancel) {
  using clock = std::chrono::steady_clock;
  auto deadline =
    clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  while (true) {
    if (cancelled(cancel))
      return false;
    auto now = clock::now();
    if (now >= deadline)
      return true;
    std::this_thread::sleep_for(std::min<clock::duration>(deadline - now, std::chrono::milliseconds(50)));
  }
}

json arg(const json& input, const char* key, json fallback) {
  if (input.is_object()) {
    auto it = input.find(key);
    if (it != input.end())
      return *it;
  }
  return fallback;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len > 1) {
      // Reject overlong forms, surrogates and values above U+10FFFF, as Python's decoder does.
      uint32_t cp = c & (0xFF >> (len + 1));
      for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      static constexpr std::array<uint32_t, 5> min_cp{0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= min_cp[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += table[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size())
      n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += i + 1 < in.size() ? table[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

} // namespace detail

namespace {

using detail::action_error;
using detail::arg;
using runner = std::function<action_result(const json&, const action_context&, const std::atomic<bool>*)>;

/// Python's str.strip() for ASCII whitespace.
std::string strip(const std::string& s) {
  auto b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(b, e - b + 1);
}

/// Python's float(v); nullopt where Python raises ValueError, action_error on TypeError.
std::optional<double> py_float(const json& v) {
  if (v.is_boolean())
    return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_number())
    return v.get<double>();
  if (!v.is_string())
    throw action_error("float() argument must be a string or a real number, not '" + detail::py_type_name(v) +
                       "'");
  std::string s = strip(v.get<std::string>());
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    // Python allows single underscores between digits.
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 1])))
      continue;
    digits += s[i];
  }
  std::string lower;
  for (char c : digits)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string body = lower.empty() || (lower[0] != '+' && lower[0] != '-') ? lower : lower.substr(1);
  double sign = !lower.empty() && lower[0] == '-' ? -1.0 : 1.0;
  if (body == "inf" || body == "infinity")
    return sign * std::numeric_limits<double>::infinity();
  if (body == "nan")
    return std::numeric_limits<double>::quiet_NaN();
  if (body.empty() || body.find_first_not_of("0123456789.e+-") != std::string::npos)
    return std::nullopt;
  try {
    size_t used = 0;
    double d = std::stod(digits, &used);
    if (used != digits.size())
      return std::nullopt;
    return d;
  } catch (const std::out_of_range&) {
    return sign * std::numeric_limits<double>::infinity();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// Python's int(v); nullopt where Python raises ValueError, action_error on TypeError.
std::optional<int64_t> py_int(const json& v) {
  if (v.is_boolean())
    return v.get<bool>() ? 1 : 0;
  if (v.is_number_integer())
    return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isnan(d))
      throw action_error("cannot convert float NaN to integer");
    if (std::isinf(d))
      throw action_error("cannot convert float infinity to integer");
    return d > 9e18 ? INT64_MAX : d < -9e18 ? INT64_MIN : static_cast<int64_t>(d);
  }
  if (!v.is_string())
    throw action_error("int() argument must be a string, a bytes-like object or a real number, not '" +
                       detail::py_type_name(v) + "'");
  std::string s = strip(v.get<std::string>());
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 1])))
      continue;
    digits += s[i];
  }
  size_t start = !digits.empty() && (digits[0] == '+' || digits[0] == '-') ? 1 : 0;
  if (digits.size() == start || digits.find_first_not_of("0123456789", start) != std::string::npos)
    return std::nullopt;
  try {
    return std::stoll(digits);
  } catch (const std::out_of_range&) {
    return digits[0] == '-' ? INT64_MIN : INT64_MAX;
  }
}

/// time.sleep(seconds) with Python's errors for values it refuses.
action_result sleep_then(double seconds, const std::atomic<bool>* cancel, json result) {
  if (std::isnan(seconds))
    throw action_error("Invalid value NaN (not a number)");
  if (seconds > 9.2e9)
    throw action_error("timestamp too large to convert to C _PyTime_t");
  if (!detail::cancellable_sleep(seconds, cancel))
    return detail::cancelled_result();
  return action_result::ok(std::move(result));
}

action_result run_noop(const json&, const action_context&, const std::atomic<bool>*) {
  return action_result::ok(nullptr);
}

action_result run_echo(const json& input, const action_context&, const std::atomic<bool>* cancel) {
  auto delay = py_float(arg(input, "delay", 0)).value_or(0.0);
  if (delay < 0)
    delay = 0;
  return sleep_then(delay, cancel, arg(input, "output"));
}

action_result run_fail(const json& input, const action_context&, const std::atomic<bool>*) {
  json error_data = arg(input, "error_data");
  if (expr::py_truthy(error_data))
    return action_result::failed(std::move(error_data));
  throw action_error("Fail action expected exception.");
}

action_result run_sleep(const json& input, const action_context&, const std::atomic<bool>* cancel) {
  auto seconds = py_int(arg(input, "seconds", 1)).value_or(0);
  if (seconds < 0)
    seconds = 0;
  return sleep_then(static_cast<double>(seconds), cancel, nullptr);
}

action_result run_test_dict(const json& input, const action_context&, const std::atomic<bool>*) {
  json size = arg(input, "size", 0);
  if (!size.is_number_integer() && !size.is_boolean())
    throw action_error("'" + detail::py_type_name(size) + "' object cannot be interpreted as an integer");
  int64_t n = size.is_boolean() ? (size.get<bool>() ? 1 : 0) : size.get<int64_t>();
  // Python would try and exhaust memory; a server must not.
  if (n > 10'000'000)
    throw action_error("MemoryError: test_dict size " + std::to_string(n) + " is too large");
  std::string prefix = expr::py_str(arg(input, "key_prefix", ""));
  json val = arg(input, "val", "");
  json result = json::object();
  for (int64_t i = 0; i < n; ++i)
    result[prefix + std::to_string(i)] = val;
  return action_result::ok(std::move(result));
}

struct action_entry {
  std::string_view name;
  std::string_view class_name; ///< the Python class, for the executor's repr
  bool async;
  runner run;
};

const std::array<action_entry, 13>& entries() {
  static const std::array<action_entry, 13> table{{
    {"std.async_noop", "AsyncNoOpAction", true, run_noop},
    {"std.echo", "EchoAction", false, run_echo},
    {"std.email", "SendEmailAction", false, detail::run_email},
    {"std.fail", "FailAction", false, run_fail},
    {"std.http", "HTTPAction", false, detail::run_http},
    {"std.javascript", "JavaScriptAction", false, detail::run_javascript},
    {"std.js", "JavaScriptAction", false, detail::run_javascript},
    {"std.mistral_http", "MistralHTTPAction", true, detail::run_mistral_http},
    {"std.noop", "NoOpAction", false, run_noop},
    {"std.sleep", "SleepAction", false, run_sleep},
    {"std.ssh", "SSHAction", false, detail::run_ssh},
    {"std.ssh_proxied", "SSHProxiedAction", false, detail::run_ssh_proxied},
    {"std.test_dict", "TestDictAction", false, run_test_dict},
  }};
  return table;
}

const action_entry* find_entry(const std::string& name) {
  for (const auto& e : entries())
    if (e.name == name)
      return &e;
  return nullptr;
}

/// Python's default repr of the action object; FailAction overrides it.
std::string action_repr(const action_entry& e, const void* where) {
  if (e.class_name == "FailAction")
    return "Fail action";
  char address[32];
  std::snprintf(address, sizeof address, "0x7f%010llx",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(where) & 0xFFFFFFFFFFULL));
  return "<mistral.actions.std_actions." + std::string(e.class_name) + " object at " + address + ">";
}

std::string raised_text(const action_entry& e, const void* where, const action_context& ctx,
                        const std::string& msg) {
  return "The action raised an exception [action=" + action_repr(e, where) +
         ", action_ex_id=" + (ctx.action_execution_id.empty() ? "None" : ctx.action_execution_id) +
         ", msg='" + msg + "']";
}

} // namespace

bool is_std_action(const std::string& name) {
  return find_entry(name) != nullptr;
}

bool is_async_action(const std::string& name) {
  const auto* e = find_entry(name);
  return e != nullptr && e->async;
}

bool is_instant_action(const std::string& name, const json& input) {
  if (name == "std.noop" || name == "std.fail" || name == "std.test_dict")
    return true;
  return name == "std.echo" && input.is_object() && (!input.contains("delay") || input["delay"] == 0);
}

action_run run_std_action(const std::string& name, const json& input, const action_context& ctx,
                          const std::atomic<bool>* cancel) {
  const auto* e = find_entry(name);
  if (e == nullptr)
    return {false, action_result::failed("Failed to find action [action_name=" + name + "]")};
  action_result result;
  try {
    result = e->run(input, ctx, cancel);
  } catch (const action_error& ex) {
    result = action_result::failed(raised_text(*e, &input, ctx, ex.what()));
  } catch (const std::exception& ex) {
    result = action_result::failed(raised_text(*e, &input, ctx, detail::valid_utf8(ex.what())));
  } catch (...) {
    result = action_result::failed(raised_text(*e, &input, ctx, "unknown error"));
  }
  // An async action stays running unless it failed (the executor reports errors of async actions too).
  bool async = e->async && result.outcome == action_result::kind::success;
  return {async, std::move(result)};
}

} // namespace mistral::action

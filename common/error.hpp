#pragma once

#include <string>
#include <utility>
#include <variant>

namespace mistral {

/// Error categories. Each maps to one HTTP status at the API edge.
enum class errc {
  invalid_input,  ///< 400: bad request data, bad definition, bad expression
  not_found,      ///< 404
  conflict,       ///< 409: duplicate entry
  forbidden,      ///< 403
  not_acceptable, ///< 406
  invalid_state,  ///< 400: state transition not allowed
  internal,       ///< 500
  unavailable,    ///< 503: a needed role or node is not reachable
  timeout,        ///< a request did not answer in time
};

/// Returns a stable lower-case name of `code`, used in logs.
const char* to_string(errc code) noexcept;

/// An error as a value: a category, Mistral's exception class name (when the
/// error mirrors one, e.g. "YaqlEvaluationException") and the message text.
struct error {
  errc code = errc::internal;
  std::string message;
  std::string kind;

  error() = default;
  error(errc c, std::string msg, std::string k = {}) : code(c), message(std::move(msg)), kind(std::move(k)) {}
};

/// Either a value or an error.
template <class T>
class result {
public:
  result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  result(error err) : data_(std::in_place_index<1>, std::move(err)) {}

  bool ok() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const mistral::error& err() const& { return std::get<1>(data_); }
  mistral::error&& err() && { return std::get<1>(std::move(data_)); }

private:
  std::variant<T, mistral::error> data_;
};

/// A result that carries no value.
struct ok_t {};
inline constexpr ok_t ok_v{};
using status = result<ok_t>;

} // namespace mistral

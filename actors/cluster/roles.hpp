#pragma once

#include "common/error.hpp"

#include <string>
#include <vector>

namespace mistral::cluster {

/// The server roles of `mistral-server --server`, as Mistral names them.
enum class role { api, engine, executor, notifier, event_engine };

/// The chosen roles of one process.
struct role_set {
  bool api = false, engine = false, executor = false, notifier = false, event_engine = false;

  bool has(role r) const noexcept;
  /// The chosen roles in Mistral's order, by name ("api", "engine", ...).
  std::vector<std::string> names() const;
};

/// The name Mistral uses for `r` ("event-engine" for event_engine).
const char* name_of(role r) noexcept;

/// Parses the value of `--server`: a comma list of api, engine, executor,
/// notifier, event-engine and all. Spaces around names are ignored. An
/// unknown or empty name is an error that lists the valid ones.
result<role_set> parse_roles(const std::string& text);

} // namespace mistral::cluster

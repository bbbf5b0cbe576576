#include "actors/cluster/roles.hpp"

namespace mistral::cluster {

namespace {

constexpr role all_roles[] = {role::api, role::engine, role::executor, role::notifier, role::event_engine};

std::string trim(const std::string& s) {
  auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos)
    return {};
  auto end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

bool* flag_of(role_set& set, role r) {
  switch (r) {
    case role::api: return &set.api;
    case role::engine: return &set.engine;
    case role::executor: return &set.executor;
    case role::notifier: return &set.notifier;
    case role::event_engine: return &set.event_engine;
  }
  return nullptr;
}

} // namespace

const char* name_of(role r) noexcept {
  switch (r) {
    case role::api: return "api";
    case role::engine: return "engine";
    case role::executor: return "executor";
    case role::notifier: return "notifier";
    case role::event_engine: return "event-engine";
  }
  return "?";
}

bool role_set::has(role r) const noexcept {
  role_set copy = *this;
  return *flag_of(copy, r);
}

std::vector<std::string> role_set::names() const {
  std::vector<std::string> out;
  for (role r : all_roles)
    if (has(r))
      out.emplace_back(name_of(r));
  return out;
}

result<role_set> parse_roles(const std::string& text) {
  role_set set;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos)
      comma = text.size();
    std::string name = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (name == "all") {
      for (role r : all_roles)
        *flag_of(set, r) = true;
      continue;
    }
    bool known = false;
    for (role r : all_roles) {
      if (name == name_of(r)) {
        *flag_of(set, r) = true;
        known = true;
      }
    }
    if (!known)
      return error(errc::invalid_input,
                   "Invalid server name '" + name +
                     "'. Valid names are: all, api, engine, executor, notifier, event-engine");
  }
  return set;
}

} // namespace mistral::cluster

#include "actors/cluster/membership.hpp"

#include <algorithm>
#include <charconv>

namespace mistral::cluster {

std::string endpoint::text() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

result<endpoint> parse_endpoint(const std::string& raw) {
  auto bad = [&raw](const std::string& why) {
    return error(errc::invalid_input,
                 "Invalid cluster address '" + raw + "': " + why + " (expected host:port)");
  };
  std::string text = raw;
  text.erase(0, text.find_first_not_of(" \t"));
  text.erase(text.find_last_not_of(" \t") + 1);
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return bad("no port");
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string::npos)
    return bad("an IPv6 host needs brackets");
  if (host.empty())
    return bad("no host");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return bad("the port is not a number in 1..65535");
  return endpoint{host, static_cast<std::uint16_t>(port)};
}

result<std::vector<endpoint>> parse_seeds(const std::vector<std::string>& entries) {
  std::vector<endpoint> out;
  for (const auto& e : entries) {
    if (e.find_first_not_of(" \t") == std::string::npos)
      continue;
    auto ep = parse_endpoint(e);
    if (!ep.ok())
      return std::move(ep).err();
    if (std::find(out.begin(), out.end(), *ep) == out.end())
      out.push_back(*ep);
  }
  return out;
}

bool member::has_role(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

json to_json(const member& m) {
  return json{{"name", m.name},
              {"roles", m.roles},
              {"host", m.host},
              {"port", m.port},
              {"executor_target", m.executor_target}};
}

result<member> member_from_json(const json& j) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty())
    return error(errc::invalid_input, "a cluster member without a name");
  member m;
  m.name = j["name"].get<std::string>();
  if (j.contains("roles") && j["roles"].is_array())
    for (const auto& r : j["roles"])
      if (r.is_string())
        m.roles.push_back(r.get<std::string>());
  m.host = j.value("host", "");
  auto port = j.value("port", std::int64_t{0});
  m.port = port > 0 && port <= 65535 ? static_cast<std::uint16_t>(port) : 0;
  m.executor_target = j.value("executor_target", "");
  return m;
}

json to_json(const std::vector<member>& ms) {
  json out = json::array();
  for (const auto& m : ms)
    out.push_back(to_json(m));
  return out;
}

std::vector<member> members_from_json(const json& j) {
  std::vector<member> out;
  if (!j.is_array())
    return out;
  for (const auto& e : j)
    if (auto m = member_from_json(e); m.ok())
      out.push_back(std::move(*m));
  return out;
}

member_table::change member_table::upsert(const member& m) {
  auto it = members_.find(m.name);
  if (it == members_.end()) {
    members_.emplace(m.name, m);
    return change::added;
  }
  if (it->second == m)
    return change::unchanged;
  it->second = m;
  return change::replaced;
}

bool member_table::remove(const std::string& name) {
  return members_.erase(name) > 0;
}

const member* member_table::find(const std::string& name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second;
}

std::vector<member> member_table::all() const {
  std::vector<member> out;
  for (const auto& [name, m] : members_)
    out.push_back(m);
  return out;
}

std::vector<std::string> member_table::with_role(const std::string& role) const {
  std::vector<std::string> out;
  for (const auto& [name, m] : members_)
    if (m.has_role(role))
      out.push_back(name);
  return out;
}

std::vector<std::string> member_table::executors_for(const std::string& target) const {
  std::vector<std::string> out;
  for (const auto& [name, m] : members_)
    if (m.has_role("executor") && (target.empty() || m.executor_target == target))
      out.push_back(name);
  return out;
}

std::optional<std::string> next_after(const std::vector<std::string>& names, const std::string& last) {
  if (names.empty())
    return std::nullopt;
  auto it = std::upper_bound(names.begin(), names.end(), last);
  return it == names.end() ? names.front() : *it;
}

std::vector<endpoint> dial_targets(const std::vector<endpoint>& seeds, const std::set<endpoint>& learnt,
                                   const endpoint& self, const member_table& live,
                                   const std::set<endpoint>& in_flight) {
  std::set<endpoint> connected;
  for (const auto& m : live.all())
    connected.insert(m.address());
  std::vector<endpoint> out;
  auto consider = [&](const endpoint& e) {
    if (e.port == 0 || e == self || connected.count(e) || in_flight.count(e))
      return;
    if (std::find(out.begin(), out.end(), e) == out.end())
      out.push_back(e);
  };
  for (const auto& e : seeds)
    consider(e);
  for (const auto& e : learnt)
    consider(e);
  return out;
}

} // namespace mistral::cluster

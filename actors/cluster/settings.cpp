#include "actors/cluster/settings.hpp"

#include <unistd.h>

namespace mistral::cluster {

member settings::self_member(const role_set& roles) const {
  member m;
  m.name = node_name;
  m.roles = roles.names();
  // A wildcard listen address is no address to dial: advertise the host name.
  m.host =
    listen_host.empty() || listen_host == "0.0.0.0" || listen_host == "::" ? local_host_name() : listen_host;
  m.port = listen_port;
  m.executor_target = roles.executor ? executor_target : "";
  return m;
}

result<settings> read_settings(const config::config& cfg, const std::string& host_name) {
  settings s;
  s.node_name = cfg.get_string("cluster", "node_name");
  if (s.node_name.empty())
    s.node_name = host_name;
  s.listen_host = cfg.get_string("cluster", "listen_host", "127.0.0.1");
  auto port = cfg.get_int("cluster", "listen_port", 0);
  if (port < 0 || port > 65535)
    return error(errc::invalid_input, "[cluster] listen_port out of range: " + std::to_string(port));
  s.listen_port = static_cast<std::uint16_t>(port);
  auto seeds = parse_seeds(cfg.get_list("cluster", "seed_nodes"));
  if (!seeds.ok())
    return error(errc::invalid_input, "[cluster] seed_nodes: " + seeds.err().message);
  s.seeds = std::move(*seeds);
  s.enabled = s.listen_port != 0 || !s.seeds.empty();
  s.executor_target = cfg.get_string("executor", "host", "0.0.0.0");
  return s;
}

std::string local_host_name() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == 0)
    return "localhost";
  return host;
}

} // namespace mistral::cluster

#pragma once

#include "actors/cluster/membership.hpp"
#include "actors/cluster/roles.hpp"
#include "common/error.hpp"
#include "config/config.hpp"

#include <string>
#include <vector>

namespace mistral::cluster {

/// A node's [cluster] (and [executor] host) settings.
struct settings {
  bool enabled = false;    ///< cluster mode: listen_port != 0 or seed_nodes set
  std::string node_name;   ///< [cluster] node_name, else the host name
  std::string listen_host; ///< [cluster] listen_host
  std::uint16_t listen_port = 0;
  std::vector<endpoint> seeds;
  std::string executor_target; ///< [executor] host, for an executor node

  /// This node's directory entry.
  member self_member(const role_set& roles) const;
};

/// Reads the settings; a seed that does not parse is an error. `host_name`
/// is the default node name (the caller passes gethostname()).
result<settings> read_settings(const config::config& cfg, const std::string& host_name);

/// This machine's host name ("localhost" when it cannot be read).
std::string local_host_name();

} // namespace mistral::cluster

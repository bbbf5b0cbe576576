#pragma once

// The pure half of cluster membership: seed addresses, the member table and
// the choice of which addresses to dial. No CAF here; the directory actor
// (directory_actor.hpp) is the shell around it.

#include "common/error.hpp"
#include "common/json.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mistral::cluster {

/// A node's cluster address: [cluster] listen_host and listen_port.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  auto operator<=>(const endpoint&) const = default;
  /// "host:port".
  std::string text() const;
};

/// Parses "host:port" (an IPv6 host in brackets: "[::1]:9000"). The port
/// must be 1..65535 and the host non-empty.
result<endpoint> parse_endpoint(const std::string& text);

/// Parses [cluster] seed_nodes; an entry that does not parse is an error
/// naming it.
result<std::vector<endpoint>> parse_seeds(const std::vector<std::string>& entries);

/// One live node as the directory knows it.
struct member {
  std::string name;
  std::vector<std::string> roles; ///< "api", "engine", "executor", "notifier", ...
  std::string host;
  std::uint16_t port = 0;
  std::string executor_target; ///< [executor] host of an executor node ("" when none)

  bool has_role(const std::string& role) const;
  endpoint address() const { return {host, port}; }
  bool operator==(const member&) const = default;
};

/// {"name", "roles", "host", "port", "executor_target"}.
json to_json(const member& m);
/// The inverse of to_json; an error when the name is missing.
result<member> member_from_json(const json& j);
/// A JSON array of members (the directory's members_atom answer).
json to_json(const std::vector<member>& ms);
/// Parses a members array; entries that do not parse are skipped.
std::vector<member> members_from_json(const json& j);

/// The live members by name, this node included. Names are unique: a node
/// that joins again under a known name replaces the old entry.
class member_table {
public:
  enum class change { added, replaced, unchanged };

  /// Adds or replaces `m`.
  change upsert(const member& m);
  /// Removes `name`; false when it was not there.
  bool remove(const std::string& name);
  const member* find(const std::string& name) const;
  /// Every member, ordered by name.
  std::vector<member> all() const;
  /// The names of members with `role`, ordered by name.
  std::vector<std::string> with_role(const std::string& role) const;
  /// The executor nodes whose target equals `target` (an empty target: every
  /// executor node), ordered by name.
  std::vector<std::string> executors_for(const std::string& target) const;
  std::size_t size() const { return members_.size(); }

private:
  std::map<std::string, member> members_;
};

/// Round robin over a list that changes between calls: the name after
/// `last` in `names` (sorted), wrapping; the first name when `last` is gone
/// or empty; nullopt when `names` is empty.
std::optional<std::string> next_after(const std::vector<std::string>& names, const std::string& last);

/// Which addresses to dial now: the seeds and every address learnt from
/// member lists, minus this node's own address, the addresses of live
/// members and the dials already in flight.
std::vector<endpoint> dial_targets(const std::vector<endpoint>& seeds, const std::set<endpoint>& learnt,
                                   const endpoint& self, const member_table& live,
                                   const std::set<endpoint>& in_flight);

} // namespace mistral::cluster

#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mistral::config {

/// The oslo.config option types Mistral's options use.
enum class opt_kind {
  string,
  integer,
  floating,
  boolean,
  list,
  dict,
  multi_string,
  port,
  host_address,
  hostname,
  ip_address,
  uri,
};

/// One allowed value of an option with choices; nullopt stands for None.
struct opt_choice {
  std::optional<std::string> value;
  std::string description;
};

/// A deprecated [group]/name that still sets an option.
struct opt_alias {
  std::string group;
  std::string name;
  bool in_sample = true; ///< oslo's sample omits aliases that only change the group
};

/// The declaration of one option: what oslo.config registers for it in
/// Mistral 15, plus what this server makes of it.
struct option {
  std::string ns;    ///< oslo namespace it comes from ("mistral.config", "oslo.db", "mistral-cpp")
  std::string group; ///< "DEFAULT", "api", ...
  std::string name;  ///< dest name (underscores)
  opt_kind kind = opt_kind::string;
  std::string type_name; ///< as the sample prints it: "integer value", "port value", ...
  /// The default as config-file text that parses back to it; nullopt = None.
  /// Multi-string defaults are joined with '\n'.
  std::optional<std::string> default_value;
  std::vector<std::string> sample_defaults; ///< what follows `#name =` in the sample, one per line
  std::optional<std::string> min;           ///< bounds as printed (numbers only)
  std::optional<std::string> max;
  std::vector<opt_choice> choices;
  std::vector<opt_alias> deprecated_names;
  bool is_mutable = false;
  bool advanced = false;
  bool deprecated_for_removal = false;
  bool secret = false;
  bool sample_default_note = false; ///< prints oslo's "This option has a sample default" note
  bool bounds = false;              ///< list value is written inside [ ]
  bool ignore_case = false;         ///< choices match in any case
  std::string deprecated_since;
  std::string deprecated_reason;
  std::string help;      ///< summary help, as `oslo-config-generator --summarize` uses it
  std::string note;      ///< this server's remark (why a default differs, ...), appended to the help
  bool acted_on = false; ///< false: parsed and validated, but this server ignores it
};

/// Every option of Mistral 15's sample configuration (mistral.config and the
/// oslo libraries its generator lists) plus this server's own ones, with this
/// server's defaults. Built once, read-only afterwards.
class registry {
public:
  /// The server's registry (our defaults, notes, [cluster], ...).
  static const registry& instance();

  /// The options exactly as Mistral 15 registers them (no notes, Mistral's
  /// defaults, none of our additions): used to compare with the real sample.
  static const registry& upstream();

  /// The option [group] name, accepting `-` for `_` in the name; nullptr if unknown.
  const option* find(std::string_view group, std::string_view name) const;

  /// The option a deprecated [group] name stands for; nullptr if none.
  const option* find_deprecated(std::string_view group, std::string_view name) const;

  /// True when some option lives in `group`.
  bool has_group(std::string_view group) const;

  /// All options in registration order (groups interleave; see groups()).
  const std::vector<option>& options() const { return options_; }

  /// Group names: DEFAULT first, then alphabetical (the sample's order).
  std::vector<std::string> groups() const;

  /// The help text of a group (empty for most groups).
  std::string group_help(std::string_view group) const;

  explicit registry(std::vector<option> options, std::map<std::string, std::string> group_helps = {});

private:
  std::vector<option> options_;
  std::map<std::pair<std::string, std::string>, std::size_t, std::less<>> index_;
  std::map<std::pair<std::string, std::string>, std::size_t, std::less<>> deprecated_;
  std::map<std::string, std::string, std::less<>> group_helps_;
};

/// Checks `text` against the option's type, bounds and choices the way oslo
/// does. Returns nullopt when valid, else the reason, e.g. "invalid integer value 'abc'".
std::optional<std::string> check_value(const option& opt, std::string_view text);

/// oslo's booleans: true/false, yes/no, on/off, 1/0 in any case; nullopt otherwise.
std::optional<bool> parse_bool(std::string_view text);

/// oslo's list syntax: comma-separated, items stripped (quotes kept, as
/// oslo does), trailing commas ignored. With `bounds` the list is enclosed in
/// [ ] and holds JSON items, split only at top-level commas.
std::vector<std::string> parse_list(std::string_view text, bool bounds = false);

/// oslo's dict syntax `k1:v1,k2:v2`; nullopt when an item has no ':'.
std::optional<std::map<std::string, std::string>> parse_dict(std::string_view text);

/// oslo's group-name normalisation: DEFAULT stays, anything else is lower-cased.
std::string normalize_group(std::string_view group);

namespace detail {
/// The generated table (options_upstream.cpp) as option structs.
std::vector<option> upstream_option_list();
std::map<std::string, std::string> upstream_group_help_map();
/// Applies this server's defaults, notes and acted-on marks and adds its own options (options.cpp).
void apply_server_settings(std::vector<option>& options);
} // namespace detail

} // namespace mistral::config

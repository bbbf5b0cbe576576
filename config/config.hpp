#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mistral::config {

/// The values read from one or more oslo.config-style INI files, on top of
/// the defaults of the option registry (see registry.hpp).
class config {
public:
  /// The raw text of an option: the last file that set it wins, else the
  /// registry default. nullopt when neither sets it (a None default).
  std::optional<std::string> raw(const std::string& group, const std::string& name) const;

  /// The text of an option after oslo's `$name` / `${group.name}` substitution
  /// (`$$` or `\$` for a literal `$`): `$name` is the option in the same
  /// group, else in [DEFAULT]; unknown names stay as written.
  std::optional<std::string> value(const std::string& group, const std::string& name) const;

  /// Typed getters. They parse value() with oslo's rules (booleans
  /// True/False/yes/no/1/0/on/off, comma-separated lists) and fall back to
  /// `fallback` when the option is unset or None.
  std::string get_string(const std::string& group, const std::string& name,
                         const std::string& fallback = {}) const;
  std::int64_t get_int(const std::string& group, const std::string& name, std::int64_t fallback = 0) const;
  double get_float(const std::string& group, const std::string& name, double fallback = 0.0) const;
  bool get_bool(const std::string& group, const std::string& name, bool fallback = false) const;
  std::vector<std::string> get_list(const std::string& group, const std::string& name) const;

  /// A dict option (`k1:v1,k2:v2`); empty when unset, None or malformed.
  std::map<std::string, std::string> get_dict(const std::string& group, const std::string& name) const;

  /// True when a file (or set()/append()) gave the option a value.
  bool is_set(const std::string& group, const std::string& name) const;

  /// Sets a value as if a file had set it (used by tests and command-line overrides).
  void set(const std::string& group, const std::string& name, std::string value);

  /// Adds one more value to a multi-valued option (values are kept joined by
  /// '\n', so get_list() returns them one per entry).
  void append(const std::string& group, const std::string& name, std::string value);

  /// Like set(), but checks the value against the registry first (for
  /// command-line overrides). The error names the group and the option.
  status set_checked(const std::string& group, const std::string& name, std::string value);

  /// Warnings collected while loading (unknown options, ignored options, ...).
  const std::vector<std::string>& warnings() const { return warnings_; }
  void add_warning(std::string text) { warnings_.push_back(std::move(text)); }

private:
  std::optional<std::string> expand(const std::string& group, const std::string& name, int depth) const;
  std::string substitute(const std::string& text, const std::string& group, int depth) const;

  std::map<std::string, std::map<std::string, std::string>> values_;
  std::vector<std::string> warnings_;
};

/// Loads the files in order (a later file wins) over the registry defaults.
/// A malformed file gives an error whose message names the file, the line,
/// the section and the key. Unknown options only add warnings.
result<config> load(const std::vector<std::string>& files);

/// Loads from text, for tests. `name` is used in messages in place of a path.
result<config> load_text(const std::string& text, const std::string& name = "<text>");

/// The complete sample configuration (every group and option with its help
/// text and default, commented out), like `tox -egenconfig` produces.
std::string generate_sample();

/// What generate_sample() prints.
struct sample_options {
  /// Print Mistral 15's own sample instead (its defaults, no notes, none of
  /// this server's options, no header): equals `oslo-config-generator` output
  /// for Mistral's namespaces, which is how the registry is checked.
  bool upstream = false;
};

/// generate_sample() with options.
std::string generate_sample(const sample_options& options);

/// SQLite's PRAGMA synchronous level from [database] sqlite_synchronous:
/// "OFF", "NORMAL", "FULL" or "EXTRA" (oslo.db's true/false map to FULL/OFF).
std::string sqlite_synchronous(const config& cfg);

} // namespace mistral::config

#pragma once

// The plain-data form of the generated option table (options_upstream.cpp).
// Constant-initialised so the ~300 entries cost no start-up code.

#include "config/registry.hpp"

#include <cstddef>
#include <span>

namespace mistral::config::detail {

struct upstream_choice {
  const char* value; ///< nullptr = None
  const char* description;
};

struct upstream_alias {
  const char* group;
  const char* name; ///< nullptr = the option's own name (not printed in the sample)
};

enum : unsigned {
  flag_mutable = 1,
  flag_advanced = 2,
  flag_deprecated_for_removal = 4,
  flag_secret = 8,
  flag_sample_default_note = 16,
  flag_bounds = 32,
  flag_ignore_case = 64,
};

/// One option as the Python generator dumped it; see registry.hpp's option.
struct upstream_option {
  const char* ns;
  const char* group;
  const char* name;
  opt_kind kind;
  const char* type_name;
  const char* default_value; ///< nullptr = None
  const char* sample;        ///< sample default lines joined by '\n'
  const char* min;
  const char* max;
  const upstream_choice* choices;
  std::size_t n_choices;
  const upstream_alias* aliases;
  std::size_t n_aliases;
  unsigned flags;
  const char* deprecated_since;
  const char* deprecated_reason;
  const char* help;
};

struct upstream_group_help {
  const char* group;
  const char* help;
};

std::span<const upstream_option> upstream_options();
std::span<const upstream_group_help> upstream_group_helps();

} // namespace mistral::config::detail

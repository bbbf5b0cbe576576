#pragma once

#include <nlohmann/json.hpp>

namespace mistral {

/// The JSON value used everywhere. Objects keep insertion order, as Python
/// dicts do, so what users see (published variables, outputs, str() of a
/// dict) prints in the order Mistral prints it.
using json = nlohmann::ordered_json;

} // namespace mistral

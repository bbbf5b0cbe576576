#pragma once

namespace mistral {

/// The Mistral release whose behaviour this server reproduces.
inline constexpr const char* mistral_version = "15.0.0";

} // namespace mistral

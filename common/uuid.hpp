#pragma once

#include <string>
#include <string_view>

namespace mistral {

/// Returns a new random (version 4) UUID in its canonical lower-case text form.
std::string make_uuid();

/// True when `text` has the canonical 8-4-4-4-12 hexadecimal UUID shape.
bool looks_like_uuid(std::string_view text) noexcept;

} // namespace mistral

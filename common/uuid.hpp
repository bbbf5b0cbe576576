#pragma once

#include <string>
#include <string_view>

namespace mistral {

/// Returns a new time-ordered (version 7: milliseconds since the epoch, then
/// 74 random bits) UUID in its canonical lower-case text form. The ids of
/// rows: ids made one after the other sort together, so a commit's inserts
/// land at the end of each id index instead of on a random page each.
std::string make_uuid();

/// Returns a new random (version 4) UUID, as Mistral's uuid() expression function.
std::string make_random_uuid();

/// True when `text` has the canonical 8-4-4-4-12 hexadecimal UUID shape.
bool looks_like_uuid(std::string_view text) noexcept;

} // namespace mistral

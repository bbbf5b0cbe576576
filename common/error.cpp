#include "common/error.hpp"

namespace mistral {

const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::invalid_input: return "invalid_input";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::forbidden: return "forbidden";
    case errc::not_acceptable: return "not_acceptable";
    case errc::invalid_state: return "invalid_state";
    case errc::internal: return "internal";
    case errc::unavailable: return "unavailable";
    case errc::timeout: return "timeout";
  }
  return "unknown";
}

} // namespace mistral
